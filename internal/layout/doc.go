// Package layout holds tests of the repository's structure: which floor
// may import which, and where library code may still end the process. It
// has no code of its own.
package layout
