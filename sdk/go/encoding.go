package atomic

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
)

// The strict encodings of the audit formats: a text that decodes must be the one encoding of its bytes.

var (
	standardBase64Pattern = regexp.MustCompile(`^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$`)
	base64URLPattern      = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)
)

const maxSafeInteger = 1<<53 - 1

func decodeStandardBase64(text string) ([]byte, bool) {
	if !standardBase64Pattern.MatchString(text) {
		return nil, false
	}
	data, err := base64.StdEncoding.DecodeString(text)
	if err != nil || base64.StdEncoding.EncodeToString(data) != text {
		return nil, false
	}
	return data, true
}

func decodeBase64URL(text string) ([]byte, bool) {
	if !base64URLPattern.MatchString(text) {
		return nil, false
	}
	data, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil || base64.RawURLEncoding.EncodeToString(data) != text {
		return nil, false
	}
	return data, true
}

// asIndex is a JSON number (decoded with UseNumber) that is a non-negative safe integer, as JavaScript reads it.
func asIndex(value any) (int64, bool) {
	number, ok := value.(json.Number)
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseFloat(string(number), 64)
	if err != nil || x != math.Trunc(x) || x < 0 || x > maxSafeInteger {
		return 0, false
	}
	return int64(x), true
}
