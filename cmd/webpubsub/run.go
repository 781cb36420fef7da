package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/webpubsub-go/sdk/webpubsub"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the service or the network failed, or a check failed
	exitUsage   = 2 // the command line was wrong
)

// Environment variables read by the client commands.
const (
	envConnectionString = "WEBPUBSUB_CONNECTION_STRING"
	envHub              = "WEBPUBSUB_HUB"
)

// command is one node of the command tree: a group of subcommands (subs) or
// a leaf that runs (setup).
type command struct {
	name    string
	args    string // the synopsis after the command path, e.g. "GROUP"
	summary string // one line for the parent's list
	details string // the long help: description and examples
	// setup registers the command's own flags on fs and returns the function
	// that runs the command with the positional arguments.
	setup func(fs *flag.FlagSet) runFunc
	subs  []*command
	// longRunning commands (serve, listen, demo) run until stopped or
	// their own limits; --request-timeout bounds every other one.
	longRunning bool
}

type runFunc func(ctx context.Context, inv *invocation, args []string) error

// globals are the flags every command accepts, before or after its name.
type globals struct {
	connectionString givenString
	hub              givenString
	output           string
	logLevel         string
	requestTimeout   time.Duration
}

// defaultRequestTimeout bounds a command that calls the service: a
// service or proxy that accepts the request and never answers must not
// hold a person's shell (or a script) forever.
const defaultRequestTimeout = time.Minute

// givenString is a string flag that remembers whether it was given, so
// that an explicitly empty value (--hub "") is refused instead of
// falling back to the environment.
type givenString struct {
	value string
	given bool
}

func (g *givenString) String() string {
	if g == nil {
		return ""
	}
	return g.value
}

func (g *givenString) Set(v string) error {
	g.value, g.given = v, true
	return nil
}

// newGlobals returns the global flags' defaults.
func newGlobals() *globals {
	return &globals{output: "text", requestTimeout: defaultRequestTimeout}
}

// check refuses flags that were given empty.
func (g *globals) check() error {
	if g.connectionString.given && g.connectionString.value == "" {
		return usagef("--connection-string is empty: give a connection string, or leave the flag out to use $%s", envConnectionString)
	}
	if g.requestTimeout < 0 {
		return usagef("--request-timeout %s: give a positive duration, or 0 for no limit", g.requestTimeout)
	}
	if g.hub.given && g.hub.value == "" {
		return usagef("--hub is empty: give a hub name, or leave the flag out to use $%s", envHub)
	}
	return nil
}

// register adds the global flags to fs. The current values are the
// defaults, so registering them on several flag sets keeps what an earlier
// set parsed.
func (g *globals) register(fs *flag.FlagSet) {
	fs.Var(&g.connectionString, "connection-string", "connection `string` of the service (default $"+envConnectionString+")")
	fs.Var(&g.hub, "hub", "`hub` name (default $"+envHub+")")
	fs.StringVar(&g.output, "output", g.output, "output `format`: text or json")
	fs.DurationVar(&g.requestTimeout, "request-timeout", g.requestTimeout,
		"how long a command waits for the service, retries included (`duration`; 0: no limit; serve, listen and demo have their own limits)")
	fs.StringVar(&g.logLevel, "log-level", g.logLevel, "log `level` on stderr: debug, info, warn or error (default info for serve, error otherwise; info shows every REST call)")
}

// invocation is what a running command sees of the world.
type invocation struct {
	g      *globals
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// keyPattern matches the access keys of the connection string; built
	// by scrub on first use (after the flags were parsed: only a run's
	// last lines are scrubbed before that), which log lines may race.
	keysOnce   sync.Once
	keyPattern *compiledKeys
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run is the whole program: it parses args, runs the command and returns
// the exit code. Every output goes to stdout and stderr; the environment is
// read through getenv, so tests drive it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	g := newGlobals()
	inv := &invocation{g: g, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := rootCommand()

	fs := newFlagSet("webpubsub")
	g.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout, "webpubsub", root)
			return exitOK
		}
		return inv.fail(flagError(err), "webpubsub")
	}
	rest := fs.Args()
	if len(rest) == 0 {
		printHelp(stderr, "webpubsub", root)
		return exitUsage
	}
	return dispatch(ctx, inv, root, "webpubsub", rest)
}

// dispatch finds the command named by args[0] among parent's subcommands
// and runs it with the remaining arguments.
func dispatch(ctx context.Context, inv *invocation, parent *command, path string, args []string) int {
	if len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && !isHelpArg(args[0]) {
		// Global flags between a command and its subcommand
		// ("group --hub chat exists lobby").
		fs := newFlagSet(path)
		inv.g.register(fs)
		if err := fs.Parse(args); err != nil {
			return inv.fail(flagError(err), path)
		}
		args = fs.Args()
	}
	if len(args) == 0 || isHelpArg(args[0]) {
		if len(args) == 0 {
			return inv.fail(usagef("missing subcommand: choose one of %s", subNames(parent)), path)
		}
		printHelp(inv.stdout, path, parent)
		return exitOK
	}
	name := args[0]
	if path == "webpubsub" && name == "help" {
		return runHelp(inv, parent, args[1:])
	}
	cmd := findSub(parent, name)
	if cmd == nil {
		hint := ""
		if s := suggest(parent, name); s != "" {
			hint = fmt.Sprintf("did you mean %q? ", s)
		}
		if path == "webpubsub" {
			return inv.fail(usagef("unknown command %q; %sthe commands are: %s", name, hint, subNames(parent)), path)
		}
		return inv.fail(usagef("unknown subcommand %q of %s; %schoose one of: %s", name, path, hint, subNames(parent)), path)
	}
	cmdPath := path + " " + cmd.name
	if cmd.subs != nil {
		return dispatch(ctx, inv, cmd, cmdPath, args[1:])
	}

	fs := newFlagSet(cmdPath)
	inv.g.register(fs)
	runner := cmd.setup(fs)
	positional, err := parseInterspersed(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(inv.stdout, cmdPath, cmd)
			return exitOK
		}
		return inv.fail(flagError(err), cmdPath)
	}
	if inv.g.output != "text" && inv.g.output != "json" {
		return inv.fail(usagef("--output %q: choose text or json", inv.g.output), cmdPath)
	}
	if err := inv.g.check(); err != nil {
		return inv.fail(err, cmdPath)
	}
	if cmd.longRunning || inv.g.requestTimeout == 0 {
		return inv.fail(runner(ctx, inv, positional), cmdPath)
	}
	callCtx, cancel := context.WithTimeout(ctx, inv.g.requestTimeout)
	defer cancel()
	err = runner(callCtx, inv, positional)
	if err != nil && ctx.Err() == nil && errors.Is(callCtx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("no answer from the service within %s: check the endpoint, or wait longer with --request-timeout", inv.g.requestTimeout)
	}
	return inv.fail(err, cmdPath)
}

// fail prints err as one line on stderr and returns its exit code; nil is
// success.
func (inv *invocation) fail(err error, path string) int {
	if err == nil {
		return exitOK
	}
	msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "webpubsub: "), "invalid argument: ")
	msg = escapeControls(inv.scrub(oneLine(msg)))
	var ue *usageError
	if errors.As(err, &ue) || errors.Is(err, webpubsub.ErrInvalidArgument) {
		fmt.Fprintf(inv.stderr, "%s: %s (see '%s --help')\n", path, msg, path)
		return exitUsage
	}
	fmt.Fprintf(inv.stderr, "%s: %s\n", path, msg)
	return exitFailure
}

// secretPatterns match what must never reach an error line, even when a
// user pasted it where an argument was expected: access keys in connection
// strings, access_token query values, and JWTs.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(accesskey=)[^;"'\s]*`),
	regexp.MustCompile(`(?i)(access_token=)[^&;"'\s]*`),
	regexp.MustCompile(`()eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`),
}

// placeholder is the value hints write where a secret goes
// ("use Endpoint=...;AccessKey=...;"); it is left as it is.
const placeholder = "..."

// scrubSecrets replaces secrets in s with REDACTED.
func scrubSecrets(s string) string {
	for _, re := range secretPatterns {
		s = re.ReplaceAllStringFunc(s, func(m string) string {
			prefix := re.FindStringSubmatch(m)[1]
			if m[len(prefix):] == placeholder {
				return m
			}
			return prefix + "REDACTED"
		})
	}
	return s
}

// scrub removes secrets from s: the access keys of the connection string
// the invocation uses (in any form a hostile service may echo them: raw,
// percent-encoded or JSON-escaped, character by character), then everything
// scrubSecrets recognises.
func (inv *invocation) scrub(s string) string {
	inv.keysOnce.Do(func() { inv.keyPattern = keyPattern(inv.accessKeys()) })
	if inv.keyPattern.re != nil {
		s = inv.keyPattern.re.ReplaceAllString(s, "REDACTED")
	}
	return scrubSecrets(s)
}

// compiledKeys holds the pattern matching the invocation's access keys;
// re is nil when there are none.
type compiledKeys struct{ re *regexp.Regexp }

// minKeyLen is the shortest access key removed by value: shorter values
// are not real keys and would mangle ordinary text.
const minKeyLen = 8

// accessKeys returns every AccessKey value of the connection string from
// --connection-string or the environment, read leniently (repeated, with
// spaces, in a string the SDK refuses): a key is a secret whether or not
// the rest of the string is valid.
func (inv *invocation) accessKeys() []string {
	var keys []string
	for _, cs := range []string{inv.g.connectionString.value, inv.getenv(envConnectionString)} {
		for seg := range strings.SplitSeq(cs, ";") {
			name, value, ok := strings.Cut(seg, "=")
			if value = strings.TrimSpace(value); ok && strings.EqualFold(strings.TrimSpace(name), "AccessKey") && len(value) >= minKeyLen {
				keys = append(keys, value)
			}
		}
	}
	return keys
}

// keyPattern compiles one pattern for keys, each character of which may
// appear as itself, percent-encoded or as a JSON \u00XX escape ('/' also
// as "\/"). The pattern grows linearly with the keys and RE2 matches in
// linear time.
func keyPattern(keys []string) *compiledKeys {
	if len(keys) == 0 {
		return &compiledKeys{}
	}
	alts := make([]string, len(keys))
	for i, k := range keys {
		var b strings.Builder
		for j := 0; j < len(k); j++ {
			c := k[j]
			fmt.Fprintf(&b, `(?:%s|%%(?i:%02x)|\\u00(?i:%02x)`, regexp.QuoteMeta(string(c)), c, c)
			if c == '/' {
				b.WriteString(`|\\/`)
			}
			b.WriteString(")")
		}
		alts[i] = b.String()
	}
	return &compiledKeys{re: regexp.MustCompile(strings.Join(alts, "|"))}
}

// flagError rewords the flag package's errors as usage errors, with flags
// spelled --name as everywhere else (the package writes -name).
func flagError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return usagef("unknown flag --%s", strings.TrimLeft(name, "-"))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return usagef("flag --%s needs a value", strings.TrimLeft(name, "-"))
	}
	return usagef("%s", strings.ReplaceAll(msg, " for flag -", " for flag --"))
}

// oneLine folds line breaks so that an error is always one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)), " ")
}

// escapeControls makes text from the service safe to print on a terminal:
// control characters (C0 but for a space, DEL, C1: terminal escape
// sequences start with them), the bidirectional overrides that reorder what
// is shown, and bytes that are not UTF-8 are written as Go escapes (\x1b,
// \u202e). Other text is left as it is, so escaping twice changes nothing.
func escapeControls(s string) string {
	clean := true
	for _, r := range s {
		if needsEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case needsEscape(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case needsEscape(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return r == utf8.RuneError || r != ' ' && unicode.IsControl(r) ||
		r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// newFlagSet returns a flag set that reports errors instead of printing
// them or exiting.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseInterspersed parses flags wherever they appear among the positional
// arguments, as users of modern command lines expect ("send group g 'hi'
// --type json"). Everything after "--" is positional. An argument that
// starts with a single "-" but names no flag of the command is positional
// too: connection ids may start with "-".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			return append(positional, args[1:]...), nil
		}
		if !isFlagArg(fs, a) {
			positional = append(positional, a)
			args = args[1:]
			continue
		}
		n := 1
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if f := fs.Lookup(name); f != nil && !hasValue && !isBoolFlag(f) && len(args) > 1 {
			n = 2 // the value is the next argument, whatever it looks like
		}
		if err := fs.Parse(args[:n]); err != nil {
			return nil, err
		}
		args = args[n:]
	}
	return positional, nil
}

// isFlagArg reports whether a is a flag of fs (or help, or an unknown
// "--name", which Parse then reports).
func isFlagArg(fs *flag.FlagSet, a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
	return fs.Lookup(name) != nil || isHelpArg(a) || strings.HasPrefix(a, "--")
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func isHelpArg(s string) bool {
	switch s {
	case "-h", "-help", "--help":
		return true
	}
	return false
}

func findSub(parent *command, name string) *command {
	for _, c := range parent.subs {
		if c.name == name {
			return c
		}
	}
	return nil
}

// suggest returns the subcommand of parent closest to a mistyped name, or
// "" when none is close.
func suggest(parent *command, name string) string {
	best, bestDist := "", 3
	for _, c := range parent.subs {
		if d := editDistance(name, c.name); d < bestDist {
			best, bestDist = c.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func subNames(parent *command) string {
	names := make([]string, 0, len(parent.subs))
	for _, c := range parent.subs {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// runHelp is "webpubsub help [COMMAND [SUBCOMMAND]]".
func runHelp(inv *invocation, root *command, args []string) int {
	cmd, path := root, "webpubsub"
	for _, name := range args {
		next := (*command)(nil)
		if cmd.subs != nil {
			next = findSub(cmd, name)
		}
		if next == nil {
			return inv.fail(usagef("no help for %q: unknown command", strings.Join(args, " ")), "webpubsub help")
		}
		cmd, path = next, path+" "+name
	}
	printHelp(inv.stdout, path, cmd)
	return exitOK
}

// printHelp writes the help of cmd: synopsis, description, subcommands or
// flags, global flags.
func printHelp(w io.Writer, path string, cmd *command) {
	var b strings.Builder
	switch {
	case cmd.subs != nil:
		fmt.Fprintf(&b, "Usage: %s COMMAND [flags]\n\n", path)
	case cmd.args != "":
		fmt.Fprintf(&b, "Usage: %s %s [flags]\n\n", path, cmd.args)
	default:
		fmt.Fprintf(&b, "Usage: %s [flags]\n\n", path)
	}
	if cmd.details != "" {
		b.WriteString(strings.TrimSpace(cmd.details))
		b.WriteString("\n\n")
	} else if cmd.summary != "" {
		b.WriteString(cmd.summary + ".\n\n")
	}
	if cmd.subs != nil {
		b.WriteString("Commands:\n")
		for _, c := range cmd.subs {
			fmt.Fprintf(&b, "  %-24s %s\n", c.name, c.summary)
		}
		fmt.Fprintf(&b, "\nRun '%s COMMAND --help' for a command's flags and examples", path)
		if path == "webpubsub" {
			b.WriteString(" (or 'webpubsub help COMMAND')")
		}
		b.WriteString(".\n\n")
	}
	if cmd.setup != nil {
		own := newFlagSet(path)
		cmd.setup(own)
		if text := flagDefaults(own); text != "" {
			b.WriteString("Flags:\n" + text + "\n")
		}
	}
	global := newFlagSet(path)
	newGlobals().register(global)
	b.WriteString("Global flags (before or after the command):\n" + flagDefaults(global))
	io.WriteString(w, b.String())
}

// flagDefaults lists the flags of fs as the flag package does, spelled
// --name as in the rest of the help and the docs.
func flagDefaults(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	lines := strings.SplitAfter(b.String(), "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, "  -"); ok {
			lines[i] = "  --" + rest
		}
	}
	return strings.Join(lines, "")
}

// logger returns the logger of the command: text lines on stderr at the
// level of --log-level, or def when it is not given.
func (inv *invocation) logger(def slog.Level) (*slog.Logger, error) {
	level := def
	if inv.g.logLevel != "" {
		if err := level.UnmarshalText([]byte(inv.g.logLevel)); err != nil {
			return nil, usagef("--log-level %q: choose debug, info, warn or error", inv.g.logLevel)
		}
	}
	return slog.New(slog.NewTextHandler(scrubbingWriter{inv.stderr, inv.scrub}, &slog.HandlerOptions{Level: level})), nil
}

// scrubbingWriter removes secrets from each log record (the text handler
// writes one record per Write): a user may pass a connection string or a
// token where an id belongs, and the SDK logs request URLs.
type scrubbingWriter struct {
	w     io.Writer
	scrub func(string) string
}

func (s scrubbingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.w, s.scrub(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// connectionString returns --connection-string or $WEBPUBSUB_CONNECTION_STRING.
func (inv *invocation) connectionString() (string, error) {
	cs := inv.g.connectionString.value
	if cs == "" {
		cs = inv.getenv(envConnectionString)
	}
	if cs == "" {
		return "", usagef("no connection string: give --connection-string or set %s (run 'webpubsub serve' for a local service)", envConnectionString)
	}
	return cs, nil
}

// hubName returns --hub or $WEBPUBSUB_HUB.
func (inv *invocation) hubName() (string, error) {
	hub := inv.g.hub.value
	if hub == "" {
		hub = inv.getenv(envHub)
	}
	if hub == "" {
		return "", usagef("no hub: give --hub NAME or set %s", envHub)
	}
	return hub, nil
}

// client returns an SDK client for the connection string and hub of the
// invocation.
func (inv *invocation) client() (*webpubsub.Client, error) {
	cs, err := inv.connectionString()
	if err != nil {
		return nil, err
	}
	hub, err := inv.hubName()
	if err != nil {
		return nil, err
	}
	logger, err := inv.logger(slog.LevelError)
	if err != nil {
		return nil, err
	}
	c, err := webpubsub.NewClientFromConnectionString(cs, hub,
		webpubsub.WithLogger(logger),
		// A person is waiting: retry briefly, and let them run it again.
		webpubsub.WithRetry(webpubsub.RetryOptions{MaxRetries: 2, RetryDelay: 250 * time.Millisecond, MaxRetryDelay: 5 * time.Second}),
		webpubsub.WithUserAgent("webpubsub-cli"))
	if err != nil {
		return nil, usagef("%v", strings.TrimPrefix(err.Error(), "webpubsub: "))
	}
	return c, nil
}

// jsonOutput reports whether --output json was chosen.
func (inv *invocation) jsonOutput() bool { return inv.g.output == "json" }

// printJSON writes v as one line of JSON on stdout.
func (inv *invocation) printJSON(v any) error {
	return json.NewEncoder(inv.stdout).Encode(v)
}

// printf writes to stdout.
func (inv *invocation) printf(format string, args ...any) {
	fmt.Fprintf(inv.stdout, format, args...)
}

// wantArgs checks the number of positional arguments.
func wantArgs(args []string, names ...string) error {
	switch {
	case len(args) < len(names):
		return usagef("missing %s", strings.Join(names[len(args):], " and "))
	case len(args) > len(names):
		return usagef("unexpected argument %q", args[len(names)])
	}
	return nil
}

// rootCommand returns the command tree.
func rootCommand() *command {
	return &command{
		name: "webpubsub",
		details: `webpubsub runs a local Azure Web PubSub service and talks to a real or
local one: send messages, manage groups, users, connections and
permissions, mint client tokens, listen as a WebSocket client.

Start with 'webpubsub demo': it needs no configuration.

The client commands read the connection string from --connection-string
or $WEBPUBSUB_CONNECTION_STRING and the hub from --hub or $WEBPUBSUB_HUB.
Exit codes: 0 success, 1 the service or a check failed, 2 bad usage.`,
		subs: []*command{
			serveCommand(),
			sendCommand(),
			listenCommand(),
			groupCommand(),
			userCommand(),
			connectionCommand(),
			permissionCommand(),
			tokenCommand(),
			healthCommand(),
			demoCommand(),
			versionCommand(),
		},
	}
}
