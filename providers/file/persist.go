package file

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// An index file is a fixed header (magic, version, the data file's
// identity), the compressed blocks of the two tables (see blocks.go), a
// compressed meta section (counts, warnings, types and the tables'
// directories: each block's first key, offset and lengths) and a footer
// that locates and checksums the meta section. Opening an index reads the
// header, the footer and the meta section: a few hundred KiB for a
// 10M-line dump; queries read the blocks they need. Each block carries
// the CRC-32C of its raw bytes (codec.go).
//
// The file is keyed by the data file's identity: absolute path and format
// in the index file's name; size, modification time and a SHA-256 of the
// first and last MiB in its header. A full content hash would cost as much
// as a fair part of re-indexing on a 100 GB dump and defeat the point; the
// size, mtime and edge hash catch replaced, re-downloaded, appended and
// truncated files, and only a same-size in-place edit of the middle that
// also preserves the mtime would go unnoticed. Anything that does not
// match, fails its checksum or its structural checks is rebuilt: at open
// for the header, footer and meta section; for a block, when a query
// reads it (Provider.Query rebuilds and asks again).

const (
	indexMagic    = "RFIDX\x00\x00\x08"
	indexTrailer  = "RFIDXEND"
	indexVersion  = 17 // bump when parsing, normalisation or the layout changes (10: shared COF time parser, RFC 3339 times, dnsdbq CSV zone columns; 11: MX values are the host; 12: TXT as schema's canonical text, control bytes escaped; 13: zone files and tool outputs, detected where text was CSV; 14: wildcard names keep their "*." label, MX/SOA/SRV fields joined by one space, control bytes of every type escaped; 15: sorted, front-coded, zstd-compressed tables read block by block; 16: up to maxSegments sorted runs as segments, merged by readers; 17: an entry's times one 0 byte when they are the previous entry's, a forward value coded against the previous one's suffix)
	edgeHashBytes = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileIdentity identifies the data file an index was built from.
type fileIdentity struct {
	Size    int64
	ModTime int64
	Edges   [32]byte
}

func identify(path string) (fileIdentity, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileIdentity{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fileIdentity{}, err
	}
	id := fileIdentity{Size: st.Size(), ModTime: st.ModTime().UnixNano()}
	h := sha256.New()
	if _, err := io.CopyN(h, f, edgeHashBytes); err != nil && !errors.Is(err, io.EOF) {
		return fileIdentity{}, err
	}
	if st.Size() > edgeHashBytes {
		if _, err := f.Seek(max(st.Size()-edgeHashBytes, edgeHashBytes), io.SeekStart); err != nil {
			return fileIdentity{}, err
		}
		if _, err := io.Copy(h, f); err != nil {
			return fileIdentity{}, err
		}
	}
	copy(id.Edges[:], h.Sum(nil))
	return id, nil
}

// indexStore is where one data file's index is kept.
type indexStore struct {
	dir, dataPath, format string
}

func newIndexStore(dir, dataPath, format string) *indexStore {
	return &indexStore{dir: dir, dataPath: dataPath, format: format}
}

func (s *indexStore) file() string {
	abs, err := filepath.Abs(s.dataPath)
	if err != nil {
		abs = s.dataPath
	}
	sum := sha256.Sum256([]byte(abs + "\x00" + s.format))
	return filepath.Join(s.dir, fmt.Sprintf("%x.rfidx", sum[:12]))
}

var errStale = errors.New("the data file changed since the index was built")

// load opens the persisted index when it matches the data file.
func (s *indexStore) load() (*index, error) {
	f, err := os.Open(s.file())
	if err != nil {
		return nil, err
	}
	id, err := identify(s.dataPath)
	if err != nil {
		f.Close()
		return nil, err
	}
	ix, err := openFileIndex(f, &id, s.format)
	if err != nil {
		f.Close()
		return nil, err
	}
	ix.reused = true
	return ix, nil
}

// keep moves a freshly written index file (made by newNamedFile in the
// store's folder) into place.
func (s *indexStore) keep(out *spillFile) error {
	if err := out.f.Sync(); err != nil {
		return err
	}
	if err := os.Rename(out.name, s.file()); err != nil {
		return err
	}
	out.name = ""
	return nil
}
