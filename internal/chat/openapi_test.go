package chat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"roomcast/internal/user"
)

// TestOpenAPIChatCodes checks that the ChatError schema of the API's
// OpenAPI document lists every code the chat's REST answers can carry
// (internal/api checks the routes themselves).
func TestOpenAPIChatCodes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "api", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties struct {
					Error struct {
						Properties struct {
							Code struct {
								Enum []string `json:"enum"`
							} `json:"code"`
						} `json:"properties"`
					} `json:"error"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	enum := doc.Components.Schemas["ChatError"].Properties.Error.Properties.Code.Enum
	want := []string{"too_large"} // written by ServeModeration directly
	for _, err := range []error{
		invalid(codeBadRequest, "x"), invalid(codeTooLong, "x"), invalid(codeEmpty, "x"),
		ErrUnauthorized, user.ErrBanned, ErrForbidden, ErrNotFound, errMuted, errRateLimited,
		errors.New("anything else"),
	} {
		code, _ := errorCode(err)
		want = append(want, code)
	}
	for _, c := range want {
		if !slices.Contains(enum, c) {
			t.Errorf("openapi.json ChatError does not list the code %q (it lists %v)", c, enum)
		}
	}
}
