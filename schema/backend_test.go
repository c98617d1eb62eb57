package schema

import "testing"

func TestConnPassword(t *testing.T) {
	for conn, want := range map[string]string{
		"postgres://u:s3cret@db.example:5432/recon?sslmode=require": "s3cret",
		"postgresql://u@db/x?password=qpw&sslmode=disable":          "qpw",
		"host=db user=u password=kwpw dbname=x":                     "kwpw",
		"host=db password = 'it''s \\' x' user=u":                   "it",
		"host=db password='a b\\'c' user=u":                         "a b'c",
		"host=db user=u":                                            "",
		"host=db mypassword=nope":                                   "",
		"postgres://u@db/x":                                         "",
	} {
		if got := connPassword(conn); got != want {
			t.Errorf("connPassword(%q) = %q, want %q", conn, got, want)
		}
	}
}
