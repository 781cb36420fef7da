package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/webpubsub-go/sdk/internal/wire"
)

var hubPattern = regexp.MustCompile(wire.HubPattern)

func validateHub(hub string) error {
	if hub == "" {
		return errors.New("the hub name is missing")
	}
	if !hubPattern.MatchString(hub) {
		return fmt.Errorf("invalid hub name %q: it must start with a letter and hold at most 128 letters, digits or _`,.[] (no hyphens)", hub)
	}
	return nil
}

func validateGroup(group string) error {
	n := utf8.RuneCountInString(group)
	switch {
	case !utf8.ValidString(group):
		return errors.New("the group name is not valid UTF-8")
	case n == 0:
		return errors.New("the group name is empty: use 1 to 1024 characters")
	case n > wire.MaxGroupNameChars:
		return fmt.Errorf("the group name has %d characters: use at most 1024", n)
	case strings.TrimFunc(group, unicode.IsSpace) == "":
		return errors.New("the group name is only whitespace")
	}
	return nil
}

// apiError is a REST error: status, x-ms-error-code and message.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func badRequest(code, format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// errorBody is the ErrorDetail JSON of error responses.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError writes an error with x-ms-error-code and, except for HEAD,
// an ErrorDetail body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set(wire.HeaderErrorCode, code)
	w.Header().Set(wire.HeaderContentType, wire.ContentTypeJSON)
	w.WriteHeader(status)
	b, _ := json.Marshal(errorBody{Code: code, Message: message}) // plain strings always marshal
	_, _ = w.Write(append(b, '\n'))
}

func writeErrorFor(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	if r.Method == http.MethodHead {
		w.Header().Set(wire.HeaderErrorCode, code)
		w.WriteHeader(status)
		return
	}
	writeError(w, status, code, message)
}
