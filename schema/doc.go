// Package schema is reconform's vocabulary: the HCL engagement language
// (loading a folder of *.hcl files into a Config with hcl.Diagnostics,
// functions, canonical formatting) and the record types every other package
// shares (Subject, Op, Query, Finding, Fact). It imports no project package.
package schema
