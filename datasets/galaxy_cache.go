package datasets

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"
)

// Cache file layout, all little-endian:
//
//	magic [8]byte, key [32]byte, N, C, H, W uint32,
//	N*C*H*W float32 images, N int64 IDs.
//
// The key is stored as well as used in the name, so a renamed or copied
// file cannot be mistaken for another one.
const (
	galaxyCacheMagic   = "TLGZC\x00\x00\x01"
	galaxyCacheVersion = 1 // bump when preprocessing changes
	galaxyCacheHeader  = 8 + sha256.Size + 4*4
)

// newCacheKey starts the hash of everything the prepared images depend on;
// the caller adds one line per image.
func newCacheKey(o GalaxyOptions, csvInfo os.FileInfo) hash.Hash {
	h := sha256.New()
	fmt.Fprintf(h, "torchlab galaxyzoo cache v%d\ncrop %d\nsize %d\nskipbad %t\ncsv %d %d\n",
		galaxyCacheVersion, o.Crop, o.Size, o.SkipBad, csvInfo.Size(), csvInfo.ModTime().UnixNano())
	return h
}

// readGalaxyCache returns the cached set, or nil if the file is absent,
// short, corrupt or does not match rows; the caller then rebuilds it.
func readGalaxyCache(path string, key [sha256.Size]byte, size int, rows []GalaxyRow) *GalaxySet {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	br := bufio.NewReaderSize(f, 1<<20)
	var hdr [galaxyCacheHeader]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil
	}
	if string(hdr[:8]) != galaxyCacheMagic || string(hdr[8:8+sha256.Size]) != string(key[:]) {
		return nil
	}
	dims := hdr[8+sha256.Size:]
	n := int64(binary.LittleEndian.Uint32(dims))
	c := binary.LittleEndian.Uint32(dims[4:])
	h := binary.LittleEndian.Uint32(dims[8:])
	w := binary.LittleEndian.Uint32(dims[12:])
	if c != 3 || h != uint32(size) || w != uint32(size) || n > int64(len(rows)) {
		return nil
	}
	count := n * 3 * int64(size) * int64(size)
	if st.Size() != galaxyCacheHeader+4*count+8*n {
		return nil
	}

	images := make([]float32, count)
	buf := make([]byte, 1<<20)
	for done := 0; done < len(images); {
		k := min(len(buf)/4, len(images)-done)
		if _, err := io.ReadFull(br, buf[:4*k]); err != nil {
			return nil
		}
		for i := range k {
			images[done+i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		done += k
	}
	set := &GalaxySet{N: int(n), Size: size, Images: images, FromCache: true}
	// The IDs must be the rows' IDs in row order (minus skipped ones); that
	// is also how each image gets its answers back.
	r := 0
	for range n {
		if _, err := io.ReadFull(br, buf[:8]); err != nil {
			return nil
		}
		id := int64(binary.LittleEndian.Uint64(buf))
		for r < len(rows) && rows[r].ID != id {
			r++
		}
		if r == len(rows) {
			return nil
		}
		set.IDs = append(set.IDs, id)
		set.Answers = append(set.Answers, rows[r].Answers)
		set.Classes = append(set.Classes, GalaxyClass(rows[r].Answers))
		r++
	}
	return set
}

// writeGalaxyCache writes set to path through a temporary file and a rename,
// so a crash or a concurrent reader never sees half a file.
func writeGalaxyCache(path string, key [sha256.Size]byte, set *GalaxySet) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("galaxy zoo cache: %w (set CacheDir or NoCache)", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*.bin")
	if err != nil {
		return fmt.Errorf("galaxy zoo cache: %w (set CacheDir or NoCache)", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	hdr := make([]byte, 0, galaxyCacheHeader)
	hdr = append(hdr, galaxyCacheMagic...)
	hdr = append(hdr, key[:]...)
	for _, d := range []int{set.N, 3, set.Size, set.Size} {
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(d))
	}
	if _, err := bw.Write(hdr); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	buf := make([]byte, 0, 1<<20)
	for i, v := range set.Images {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) || i == len(set.Images)-1 {
			if _, err := bw.Write(buf); err != nil {
				return fmt.Errorf("write %s: %w", f.Name(), err)
			}
			buf = buf[:0]
		}
	}
	for _, id := range set.IDs {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(id))
	}
	if _, err := bw.Write(buf); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("galaxy zoo cache: %w", err)
	}
	return nil
}
