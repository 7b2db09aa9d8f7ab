// Package layout holds tests of the repository's structure: which floor
// may import which, where library code may still end the process, and
// that the README and docs/ speak to users and link to what exists. It
// has no code of its own.
package layout
