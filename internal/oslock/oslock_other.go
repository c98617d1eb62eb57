//go:build !unix

package oslock

import "os"

const supported = false

func tryLock(*os.File) error { return nil }

func unlock(*os.File) error { return nil }
