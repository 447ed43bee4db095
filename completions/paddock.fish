# fish completion for paddock(1)
#
#   paddock [run] [OPTIONS] -- COMMAND [ARG]...
#   paddock profile list | show [--resolved] NAME | check FILE... | new NAME
#   paddock doctor
#   paddock log [SESSION|FILE] [--denials] [--layer L] [--follow] [--json] [--verify] [--list [--all]]
#   paddock tool list -p PROFILE [--json]
#   paddock tool call -p PROFILE [--approve prompt|never] [--audit FILE] NAME [JSON|-]
#   paddock mcp -p PROFILE [--approve prompt|never] [--audit FILE]
#   paddock replay SESSION|FILE [-p PROFILE]... [--call ID] [--tool NAME] [--live]

# Where the command line before the cursor stands. Prints one of:
#   top            only `run` options so far (`run` left out), or nothing yet
#   run            after `run`, before COMMAND
#   command, N     inside COMMAND, which starts at token N (two lines)
#   profile, profile-list, profile-show, profile-check, profile-new, doctor, log, tool
#   tool-list, N / tool-call, N / mcp, N / replay, N   N: the number of arguments that are not options
function __paddock_state
    set -l toks (commandline -opc)
    set -l state top
    set -l need_value 0
    set -l nargs 0
    for i in (seq 2 (count $toks))
        set -l t $toks[$i]
        switch $state
            case top run
                if test $need_value = 1
                    set need_value 0
                    continue
                end
                switch $t
                    case --
                        printf '%s\n' command (math $i + 1)
                        return
                    case -p --profile --ro --rw --deny --tmpfs --net --allow-net --env --memory --pids --cpus --timeout --audit --mcp-config
                        set need_value 1
                    case '-*'
                    case '*'
                        if test $state = top -a $i -eq 2
                            switch $t
                                case run profile doctor log tool mcp replay
                                    set state $t
                                    continue
                            end
                        end
                        printf '%s\n' command $i
                        return
                end
            case profile
                switch $t
                    case list show check new trust
                        set state profile-$t
                end
            case tool
                switch $t
                    case list call
                        set state tool-$t
                end
            case tool-list tool-call mcp replay
                if test $need_value = 1
                    set need_value 0
                    continue
                end
                switch $t
                    case -p --profile --approve --audit --call --tool
                        set need_value 1
                    case '-*'
                    case '*'
                        set nargs (math $nargs + 1)
                end
        end
    end
    switch $state
        case tool-list tool-call mcp replay
            printf '%s\n' $state $nargs
        case '*'
            echo $state
    end
end

function __paddock_is
    set -l s (__paddock_state)
    contains -- $s[1] $argv
end

# True when the first argument is being completed.
function __paddock_at_first
    test (count (commandline -opc)) -eq 1
end

# The paddock being completed (e.g. ./build/src/paddock), for `profile list`.
function __paddock_bin
    set -l bin (commandline -opc)[1]
    if command -q -- $bin; or test -x "$bin"
        echo $bin
    else
        echo paddock
    end
end

# Profile names on the search path with their descriptions: the NAME column of
# `paddock profile list`, without the header line and the indented path lines.
function __paddock_profiles
    set -l bin (__paddock_bin)
    set -l first 1
    for line in (command $bin profile list 2>/dev/null)
        if test $first = 1
            set first 0
            continue
        end
        string match -qr '^\s' -- $line; and continue
        string replace -r '^(\S+)\s+\S+\s*(.*)$' '$1\t$2' -- $line
    end
end

# A profile reference: names, or .toml files once the token contains a "/".
function __paddock_profile_refs
    __paddock_profiles
    if string match -q -- '*/*' (commandline -ct)
        __fish_complete_suffix .toml
    end
end

# True in `tool call` when the argument being completed is the Nth one (0: NAME, 1: the input).
function __paddock_tool_call_arg
    set -l s (__paddock_state)
    test "$s[1]" = tool-call; and test "$s[2]" -eq $argv[1]
end

# The tools the profiles given with -p so far declare, with their descriptions: the
# unindented lines of `paddock tool list -p PROFILE...`, each followed by its description.
function __paddock_tools
    set -l toks (commandline -opc)
    set -l args
    set -l i 2
    while test $i -le (count $toks)
        set -l t $toks[$i]
        switch $t
            case -p --profile
                set i (math $i + 1)
                test $i -le (count $toks); and set -a args -p $toks[$i]
            case '--profile=*'
                set -a args -p (string replace -- --profile= '' $t)
            case '-p?*'
                set -a args -p (string sub -s 3 -- $t)
        end
        set i (math $i + 1)
    end
    set -q args[1]; or return
    set -l bin (__paddock_bin)
    set -l name
    for line in (command $bin tool list $args 2>/dev/null </dev/null)
        if not string match -qr '^\s' -- $line
            test -n "$name"; and echo $name
            set name $line
        else if test -n "$name"
            # The first indented line is the description.
            printf '%s\t%s\n' $name (string trim -- $line)
            set name
        end
    end
    test -n "$name"; and echo $name
end

# Completes COMMAND and its arguments as fish would complete them on their own.
function __paddock_complete_command
    set -l s (__paddock_state)
    set -l all (commandline -opc)
    set -l toks
    if test $s[2] -le (count $all)
        set toks $all[$s[2]..-1]
    end
    set -l line (string join ' ' -- (string escape -- $toks) (commandline -ct))
    complete -C "$line"
end

complete -c paddock -f

# Commands.
complete -c paddock -n __paddock_at_first -a run -d 'Run COMMAND inside a sandbox built from the profile(s)'
complete -c paddock -n __paddock_at_first -a profile -d 'List, show, check and create profiles'
complete -c paddock -n __paddock_at_first -a doctor -d 'Report which sandbox layers this kernel and user can enforce'
complete -c paddock -n __paddock_at_first -a log -d "Show a session's audit log: denials, rules, hints"
complete -c paddock -n __paddock_at_first -a tool -d 'List and call the tools a profile declares (JavaScript in V8)'
complete -c paddock -n __paddock_at_first -a mcp -d "Serve the profile's tools to an MCP client on stdin/stdout"
complete -c paddock -n __paddock_at_first -a replay -d "Run a session's recorded tool calls again: identical, different or failed"
complete -c paddock -n __paddock_at_first -l version -d 'Print the version and exit'
complete -c paddock -n 'not __paddock_is command' -s h -l help -d 'Print help and exit'

# Options of run (also valid with `run` left out).
set -l run_cond '__paddock_is top run'
complete -c paddock -n $run_cond -s p -l profile -x -a '(__paddock_profile_refs)' -d 'Profile name or file; repeat to merge, later ones win'
complete -c paddock -n $run_cond -l ro -r -F -d 'Also grant PATH read-only'
complete -c paddock -n $run_cond -l rw -r -F -d 'Also grant PATH read-write'
complete -c paddock -n $run_cond -l deny -r -F -d 'Mask PATH, even inside a granted folder'
complete -c paddock -n $run_cond -l tmpfs -r -F -d 'Mount a fresh, empty tmpfs at PATH'
complete -c paddock -n $run_cond -l net -x -a 'none\t"Loopback only, no egress" proxy\t"Egress only to allowed destinations" host\t"The host network, unfiltered"' -d 'Network mode'
complete -c paddock -n $run_cond -l allow-net -x -d 'Allow egress to HOST[:PORT]'
complete -c paddock -n $run_cond -l env -x -a '(set -xn)' -d 'Pass variable NAME through, or set NAME=VALUE'
complete -c paddock -n $run_cond -l memory -x -d 'Memory limit, e.g. 2G'
complete -c paddock -n $run_cond -l pids -x -d 'Maximum number of processes'
complete -c paddock -n $run_cond -l cpus -x -d 'CPU limit in cores, e.g. 1.5'
complete -c paddock -n $run_cond -l timeout -x -d 'Wall-clock limit, e.g. 30m (exit 124)'
complete -c paddock -n $run_cond -l audit -r -F -d "Audit log file ('-' for stderr)"
complete -c paddock -n $run_cond -l mcp-config -r -F -d "Write an MCP client configuration for the profile's tools"
complete -c paddock -n $run_cond -l dry-run -d 'Print the sandbox plan and exit without running anything'
complete -c paddock -n $run_cond -l trace-fs -d 'Record paths the sandbox tries outside its grants (slower file calls)'
complete -c paddock -n $run_cond -s q -l quiet -d 'Print only errors'
complete -c paddock -n $run_cond -s v -l verbose -d 'Print what paddock sets up'
# COMMAND, after `--` or as the first word that is not an option.
complete -c paddock -n '__paddock_is run; or __paddock_is top; and not __paddock_at_first' -a '(__fish_complete_command)'
complete -c paddock -n '__paddock_is command' -a '(__paddock_complete_command)'

# profile list | show | check | new
complete -c paddock -n '__paddock_is profile' -a list -d 'List profiles on the search path'
complete -c paddock -n '__paddock_is profile' -a show -d 'Print a profile, or with --resolved the merged policy'
complete -c paddock -n '__paddock_is profile' -a check -d 'Validate profile files (with their extends)'
complete -c paddock -n '__paddock_is profile' -a new -d 'Create a commented profile in your profile folder'
complete -c paddock -n '__paddock_is profile' -a trust -d 'Trust the current content of profile files outside your profile folders'
complete -c paddock -n '__paddock_is profile-trust' -F
complete -c paddock -n '__paddock_is profile-show' -l resolved -d 'Show the fully merged policy, each rule with its file:line'
complete -c paddock -n '__paddock_is profile-show' -a '(__paddock_profile_refs)'
complete -c paddock -n '__paddock_is profile-check' -F -a '(__paddock_profiles)'

# log [SESSION|FILE]: session ids from $XDG_STATE_HOME/paddock/sessions (default ~/.local/state),
# newest first; log files once the token contains a "/".
function __paddock_sessions
    set -l state $XDG_STATE_HOME
    string match -q -- '/*' "$state"; or set state $HOME/.local/state
    set -l logs $state/paddock/sessions/*.jsonl
    if set -q logs[1]
        string replace -r '^.*/(.*)\.jsonl$' '$1' -- $logs[-1..1]
    end
    if string match -q -- '*/*' (commandline -ct)
        __fish_complete_suffix .jsonl
    end
end
complete -c paddock -n '__paddock_is log' -k -a '(__paddock_sessions)'
complete -c paddock -n '__paddock_is log' -l denials -d 'Show only denials (deny, kill, reject)'
complete -c paddock -n '__paddock_is log' -l layer -x -a 'session fs net dns syscall credential limit tool' -d 'Show only events of layer L'
complete -c paddock -n '__paddock_is log' -l follow -d 'Keep printing events as the session appends them'
complete -c paddock -n '__paddock_is log' -l json -d 'Print the raw JSON lines instead of a table'
complete -c paddock -n '__paddock_is log' -l verify -d 'Check the hash chain: exit 0 intact, 1 tampered, 2 incomplete'
complete -c paddock -n '__paddock_is log' -l list -d 'List recent sessions'
complete -c paddock -n '__paddock_is log' -l all -d 'With --list, list every session'

# tool list | call, mcp
complete -c paddock -n '__paddock_is tool' -a list -d "List the profile's tools: name, description, grants, limits"
complete -c paddock -n '__paddock_is tool' -a call -d 'Call one tool; its result (JSON) goes to stdout'
complete -c paddock -n '__paddock_is tool-list tool-call mcp' -s p -l profile -x -a '(__paddock_profile_refs)' -d 'Profile name or file declaring the tools; repeat to merge'
complete -c paddock -n '__paddock_is tool-list' -l json -d "Print JSON (with each tool's input schema) instead of a table"
complete -c paddock -n '__paddock_is tool-call mcp' -l approve -x -a 'prompt\t"Ask on the terminal" never\t"Refuse them"' -d 'Calls of tools that require approval'
complete -c paddock -n '__paddock_is tool-call mcp' -l audit -r -F -d "Audit log file ('-' for stderr)"
complete -c paddock -n '__paddock_tool_call_arg 0' -a '(__paddock_tools)'
complete -c paddock -n '__paddock_tool_call_arg 1' -a - -d 'Read the input from stdin'

# replay SESSION|FILE [-p PROFILE]... [--call ID] [--tool NAME] [--live]
# True in `replay` while SESSION is not given yet.
function __paddock_replay_needs_session
    set -l s (__paddock_state)
    test "$s[1]" = replay; and test "$s[2]" -eq 0
end

# Tools for `replay --tool`: those of the profiles given with -p, else the tools the
# session (the first argument that is not an option) recorded calls of.
function __paddock_replay_tools
    set -l toks (commandline -opc)
    set -l session
    set -l i 3
    while test $i -le (count $toks)
        switch $toks[$i]
            case -p --profile '-p?*' '--profile=*'
                __paddock_tools
                return
            case --call --tool
                set i (math $i + 1)
            case '-*'
            case '*'
                test -z "$session"; and set session $toks[$i]
        end
        set i (math $i + 1)
    end
    test -n "$session"; or return
    string match -q -- '~/*' $session; and set session $HOME/(string sub -s 3 -- $session)
    set -l bin (__paddock_bin)
    command $bin log --json --layer tool $session 2>/dev/null </dev/null |
        string match -r -g '"action":"call","subject":"([^"\\\\]*)"' | sort -u
end
complete -c paddock -n __paddock_replay_needs_session -k -a '(__paddock_sessions)'
complete -c paddock -n '__paddock_is replay' -s p -l profile -x -a '(__paddock_profile_refs)' -d "Use these profiles instead of the session's"
complete -c paddock -n '__paddock_is replay' -l call -x -d 'Only the call with this id'
complete -c paddock -n '__paddock_is replay' -l tool -x -a '(__paddock_replay_tools)' -d 'Only the calls of this tool'
complete -c paddock -n '__paddock_is replay' -l live -d 'Answer host functions for real instead of from the record'
