package media

// ValidName reports whether s is a valid stream or application name:
// 1 to 128 characters of A-Z, a-z, 0-9, '_' and '-'. Names that pass can be
// used in URLs and file paths unescaped.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
