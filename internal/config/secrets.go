package config

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SecretsFile is the file in the data directory holding generated secrets.
const SecretsFile = "secrets.json"

// secrets is the content of SecretsFile.
type secrets struct {
	PushKey       string `json:"push_key"`
	PlayKey       string `json:"play_key"`
	WebhookSecret string `json:"webhook_secret"`
}

// FillSecrets gives every secret that the configuration leaves empty a
// value: the one generated on an earlier start, or a new random one that is
// saved (mode 0600) in the data directory. Configured secrets are left as
// they are and never written to disk.
func (c *Config) FillSecrets() error {
	path := filepath.Join(c.DataDir, SecretsFile)
	var saved secrets
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read %s: %w", path, err)
	default:
		if err := json.Unmarshal(b, &saved); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
	}
	changed := false
	fill := func(dst, stored *string) error {
		if *dst != "" {
			return nil
		}
		if *stored == "" {
			var raw [24]byte
			if _, err := rand.Read(raw[:]); err != nil {
				return fmt.Errorf("generate secret: %w", err)
			}
			*stored = hex.EncodeToString(raw[:])
			changed = true
		}
		*dst = *stored
		return nil
	}
	for _, f := range []struct{ dst, stored *string }{
		{&c.Auth.PushKey, &saved.PushKey},
		{&c.Auth.PlayKey, &saved.PlayKey},
		{&c.Webhook.Secret, &saved.WebhookSecret},
	} {
		if err := fill(f.dst, f.stored); err != nil {
			return err
		}
	}
	if !changed {
		return nil
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	out, _ := json.MarshalIndent(saved, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(out, '\n'), 0o600); err != nil {
		return fmt.Errorf("write secrets: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write secrets: %w", err)
	}
	return nil
}
