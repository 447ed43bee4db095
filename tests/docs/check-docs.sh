#!/usr/bin/env bash
# Checks that the documentation shipped with paddock matches the binary.
#
#   check-docs.sh PADDOCK_BINARY SOURCE_DIR
#
# * Every subcommand and every long option that `paddock --help` and the --help of each
#   subcommand (recursively) list must appear in man/paddock.1.scd and in the bash, zsh
#   and fish completions.
# * Every key the profile loader accepts (the check_keys lists in
#   src/policy/profile_loader.cc) and every sandbox.best_effort layer must appear in
#   man/paddock-profile.5.scd; every shipped profile must be named in man/paddock.1.scd.
# * The example profile in paddock-profile(5) must pass `paddock profile check`.
# * scdoc must accept both pages (skipped when scdoc is not installed); bash -n, zsh -n
#   and fish -n must accept the completions (zsh and fish skipped when not installed).
#
# Exits 0 when everything matches, 1 otherwise, printing each problem on its own line.
set -u -o pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 PADDOCK_BINARY SOURCE_DIR" >&2
    exit 2
fi
bin=$1
src=$2
# meson passes paths relative to the build folder; the example check below changes folder.
[[ $bin == /* ]] || bin=$PWD/$bin
[[ $src == /* ]] || src=$PWD/$src
man1=$src/man/paddock.1.scd
man5=$src/man/paddock-profile.5.scd
bash_comp=$src/completions/paddock.bash
zsh_comp=$src/completions/_paddock
fish_comp=$src/completions/paddock.fish
loader=$src/src/policy/profile_loader.cc

problems=0
problem() {
    echo "check-docs: $*"
    problems=$((problems + 1))
}

for f in "$man1" "$man5" "$bash_comp" "$zsh_comp" "$fish_comp"; do
    [[ -f $f ]] || problem "missing file ${f#"$src"/}"
done
if [[ ! -x $bin ]]; then
    problem "$bin is not an executable"
    exit 1
fi
((problems == 0)) || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/paddock-check-docs.XXXXXX") || exit 1
trap 'rm -rf -- "$tmp"' EXIT

# Characters that may surround a name without being part of it.
B='[^A-Za-z0-9_-]'

# contains FILE REGEX: whether an extended regex matches somewhere in FILE.
contains() { grep -qE -- "$2" "$1"; }

# The long options in the Options: section of one --help text (the name column only).
help_long_options() {
    awk '
        /^[^ ]/ { section = $0; next }
        /^$/ { section = ""; next }
        section == "Options:" {
            line = $0
            sub(/^ +/, "", line)
            if (line !~ /^-/) next                 # a wrapped description
            sub(/  .*$/, "", line)                 # drop the description column
            n = split(line, parts, /[, ]/)
            for (i = 1; i <= n; i++) if (parts[i] ~ /^--[A-Za-z0-9][A-Za-z0-9-]*$/) print parts[i]
        }'
}

# The subcommands in the Subcommands: section of one --help text.
help_subcommands() {
    awk '
        /^[^ ]/ { section = $0; next }
        /^$/ { section = ""; next }
        section == "Subcommands:" && /^  [A-Za-z]/ { print $1 }'
}

check_option() { # COMMAND-PATH OPTION
    local where="paddock${1:+ $1} --help" opt=$2 name=${2#--}
    local re="(^|$B)$opt(\$|$B)"
    contains "$man1" "$re" || problem "$opt (from '$where') is missing in man/paddock.1.scd"
    contains "$bash_comp" "$re" || problem "$opt (from '$where') is missing in completions/paddock.bash"
    contains "$zsh_comp" "$re" || problem "$opt (from '$where') is missing in completions/_paddock"
    contains "$fish_comp" "(-l|--long-option|--long)[ =]['\"]?$name(\$|$B)" ||
        problem "$opt (from '$where') is missing in completions/paddock.fish (no '-l $name')"
}

check_subcommand() { # PARENT-PATH NAME
    local where="paddock${1:+ $1} --help" name=$2
    local full="${1:+$1 }$name"
    # The man page must name the command in bold, e.g. *doctor* or *profile show*.
    contains "$man1" "\\*(paddock )?${full}[* ]" ||
        problem "command '$full' (from '$where') is not documented in man/paddock.1.scd (expected *$full*)"
    local re="(^|$B)$name(\$|$B)"
    contains "$bash_comp" "$re" || problem "command '$full' (from '$where') is missing in completions/paddock.bash"
    contains "$zsh_comp" "$re" || problem "command '$full' (from '$where') is missing in completions/_paddock"
    contains "$fish_comp" "$re" || problem "command '$full' (from '$where') is missing in completions/paddock.fish"
}

commands_seen=0
walk() { # COMMAND-PATH WORDS...
    local path="$*" help opt sub
    if (($# > 4)); then
        problem "subcommands nested too deeply at 'paddock $path'"
        return
    fi
    if ! help=$("$bin" "$@" --help 2>&1); then
        problem "'paddock${path:+ $path} --help' failed: $help"
        return
    fi
    commands_seen=$((commands_seen + 1))
    while IFS= read -r opt; do
        [[ -n $opt ]] && check_option "$path" "$opt"
    done < <(help_long_options <<<"$help")
    while IFS= read -r sub; do
        [[ -z $sub ]] && continue
        check_subcommand "$path" "$sub"
        walk "$@" "$sub"
    done < <(help_subcommands <<<"$help")
}
walk
# paddock, run, profile, its four subcommands and doctor at the time of writing.
((commands_seen >= 3)) || problem "found only $commands_seen commands in the --help output of $bin"

# Profile keys: every quoted name in the check_keys(...) lists and the best_effort layers.
if [[ -f $loader ]]; then
    keys=$(awk '
        /check_keys\(/ { grab = 1 }
        /static const std::set<std::string> known/ { grab = 1 }
        grab { text = text $0 }
        grab && /\}\)?;/ { grab = 0 }
        END {
            while (match(text, /"[A-Za-z_][A-Za-z0-9_.-]*"/)) {
                print substr(text, RSTART + 1, RLENGTH - 2)
                text = substr(text, RSTART + RLENGTH)
            }
        }' "$loader" | sort -u)
    [[ -n $keys ]] || problem "found no profile keys in src/policy/profile_loader.cc"
    for k in $keys; do
        contains "$man5" "(^|[^A-Za-z0-9_])${k//./\\.}(\$|[^A-Za-z0-9_])" ||
            problem "profile key or value '$k' (accepted by src/policy/profile_loader.cc) is missing in man/paddock-profile.5.scd"
    done
else
    problem "missing file src/policy/profile_loader.cc"
fi

# Shipped profiles are named in paddock(1).
for p in "$src"/profiles/*.toml; do
    [[ -e $p ]] || continue
    name=$(basename "$p" .toml)
    contains "$man1" "\\*$name\\*" || problem "shipped profile '$name' is not named in man/paddock.1.scd (expected *$name*)"
done

# The example profile of paddock-profile(5), between "; example-profile-begin" and
# "; example-profile-end", must load.
example=$tmp/work/example.toml
mkdir -p "$tmp/work/tools" "$tmp/shipped" "$tmp/config" "$tmp/state"
awk '/^; example-profile-end/ { grab = 0 } grab && !/^```/ { print } /^; example-profile-begin/ { grab = 1 }' "$man5" >"$example"
if [[ ! -s $example ]]; then
    problem "man/paddock-profile.5.scd has no example profile between '; example-profile-begin' and '; example-profile-end'"
else
    chmod 0644 "$example"
    # Tool scripts the example names, relative to its folder.
    while IFS= read -r script; do
        [[ $script == /* ]] && continue
        mkdir -p "$(dirname "$tmp/work/$script")"
        : >"$tmp/work/$script"
        chmod 0644 "$tmp/work/$script"
    done < <(sed -nE 's/^script *= *"([^"]*)".*/\1/p' "$example")
    for p in "$src"/profiles/*.toml; do
        [[ -e $p ]] || continue
        cp "$p" "$tmp/shipped/" && chmod 0644 "$tmp/shipped/$(basename "$p")"
    done
    if ! out=$(cd "$tmp/work" && PADDOCK_SHIPPED_PROFILES=$tmp/shipped XDG_CONFIG_HOME=$tmp/config \
        XDG_STATE_HOME=$tmp/state "$bin" profile check ./example.toml 2>&1); then
        problem "the example profile in man/paddock-profile.5.scd does not load: $out"
    fi
fi

# Syntax of the pages and the completions.
if command -v scdoc >/dev/null 2>&1; then
    for page in "$man1" "$man5"; do
        if ! err=$(scdoc <"$page" 2>&1 >/dev/null); then
            problem "scdoc rejects ${page#"$src"/}: $err"
        fi
    done
else
    echo "check-docs: scdoc not installed; skipping the man page syntax check"
fi
if ! err=$(bash -n "$bash_comp" 2>&1); then
    problem "bash -n rejects completions/paddock.bash: $err"
fi
if command -v zsh >/dev/null 2>&1; then
    if ! err=$(zsh -n "$zsh_comp" 2>&1); then
        problem "zsh -n rejects completions/_paddock: $err"
    fi
else
    echo "check-docs: zsh not installed; skipping zsh -n"
fi
if command -v fish >/dev/null 2>&1; then
    if ! err=$(fish -n "$fish_comp" 2>&1); then
        problem "fish -n rejects completions/paddock.fish: $err"
    fi
else
    echo "check-docs: fish not installed; skipping fish -n"
fi

if ((problems > 0)); then
    echo "check-docs: $problems problem(s)"
    exit 1
fi
echo "check-docs: ok ($commands_seen commands checked)"
exit 0
