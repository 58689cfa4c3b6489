package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSign(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runSign([]string{"--key", "e12c46f2612d5106e2034781ab261ca3", "--stream", "test", "--txtime", "5C271099"}, time.Now(), &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	want := "txTime=5C271099\ntxSecret=f85a2ab363fe4deaffef9754d79da6fe\nquery=txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099\n"
	if out.String() != want {
		t.Fatalf("got %q", out.String())
	}
	out.Reset()
	now := time.Unix(0x5C271099-3600, 0)
	if err := runSign([]string{"--key", "k", "--stream", "s", "--expires-in", "1h"}, now, &out, &errOut); err != nil || !strings.Contains(out.String(), "txTime=5C271099\n") {
		t.Fatalf("expires-in: %v %q", err, out.String())
	}
}

func TestSignErrors(t *testing.T) {
	tests := [][]string{
		{"--stream", "s", "--expires-in", "1h"},
		{"--key", "k", "--stream", "bad.name", "--expires-in", "1h"},
		{"--key", "k", "--stream", "s"},
		{"--key", "k", "--stream", "s", "--expires-in", "1h", "--txtime", "AB"},
		{"--key", "k", "--stream", "s", "--txtime", "xyz"},
	}
	for _, args := range tests {
		var out, errOut bytes.Buffer
		if err := runSign(args, time.Now(), &out, &errOut); !errors.Is(err, errUsage) {
			t.Errorf("%v: err = %v, want usage error", args, err)
		}
	}
}

func TestRunCommands(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &errOut, nil); err != nil || !strings.HasPrefix(out.String(), "roomcast ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"nope"}, &out, &errOut, nil); !errors.Is(err, errUsage) {
		t.Fatalf("unknown command: %v", err)
	}
	if err := run(context.Background(), []string{"serve", "-rtmp-addr", "bad"}, &out, &errOut, nil); err == nil || !strings.Contains(err.Error(), "rtmp-addr") {
		t.Fatalf("bad config: %v", err)
	}
}

func TestUserAdd(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	err := runUser(context.Background(), []string{"add", "boss", "--admin", "-data", dir}, strings.NewReader("correct horse\n"), &out, &errOut)
	if err != nil || !strings.HasPrefix(out.String(), "created admin boss") {
		t.Fatalf("%v %q %q", err, out.String(), errOut.String())
	}
	out.Reset()
	if err := runUser(context.Background(), []string{"add", "boss", "-data", dir, "--password", "another pw"}, nil, &out, &errOut); err == nil {
		t.Fatal("duplicate name accepted")
	}
	if err := runUser(context.Background(), []string{"add", "shorty", "-data", dir, "--password", "short"}, nil, &out, &errOut); err == nil {
		t.Fatal("short password accepted")
	}
	if err := runUser(context.Background(), []string{"add"}, nil, &out, &errOut); !errors.Is(err, errUsage) {
		t.Fatalf("usage: %v", err)
	}
}
