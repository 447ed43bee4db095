# bash completion for paddock(1)                                 -*- shell-script -*-
#
#   paddock [run] [OPTIONS] -- COMMAND [ARG]...
#   paddock profile list | show [--resolved] NAME | check FILE... | new NAME | trust FILE...
#   paddock doctor
#   paddock log [SESSION|FILE] [--denials] [--layer L] [--follow] [--json] [--verify] [--list [--all]]
#   paddock tool list -p PROFILE [--json]
#   paddock tool call -p PROFILE [--approve prompt|never] [--audit FILE] NAME [JSON|-]
#   paddock mcp -p PROFILE [--approve prompt|never] [--audit FILE]
#   paddock replay SESSION|FILE [-p PROFILE]... [--call ID] [--tool NAME] [--live]
#
# Works with the bash-completion package (better word splitting, command completion
# after `--`) and without it.

# Options of `run` that take a value (one value per option).
_paddock_run_value_opts='-p --profile --ro --rw --deny --tmpfs --net --allow-net --env --memory --pids --cpus --timeout --audit --mcp-config'
_paddock_run_flag_opts='-h --help --dry-run --trace-fs -q --quiet -v --verbose'
_paddock_log_opts='-h --help --denials --layer --follow --json --verify --list --all'
_paddock_audit_layers='session fs net dns syscall credential limit tool'
# Options of `tool list`, `tool call` and `mcp`.
_paddock_tool_list_opts='-h --help -p --profile --json'
_paddock_tool_call_opts='-h --help -p --profile --approve --audit'
_paddock_mcp_opts='-h --help -p --profile --approve --audit'
_paddock_replay_opts='-h --help -p --profile --call --tool --live'

# Session ids: the logs in $XDG_STATE_HOME/paddock/sessions (default ~/.local/state), newest first.
_paddock_session_ids() {
    local state=${XDG_STATE_HOME-}
    [[ $state == /* ]] || state=$HOME/.local/state
    local f
    for f in "$state"/paddock/sessions/*.jsonl; do
        [[ -f $f ]] || continue
        f=${f##*/}
        printf '%s\n' "${f%.jsonl}"
    done | sort -r
}

# Tool names a session's log records calls of: the subjects of its tool "call" events.
# $1 is the paddock binary, $2 the session id, prefix or log file.
_paddock_session_tool_names() {
    local bin=$1 session=$2
    # shellcheck disable=SC2088 # a literal "~/" left unexpanded in the word
    [[ $session == "~/"* ]] && session=$HOME/${session#"~/"}
    "$bin" log --json --layer tool "$session" 2>/dev/null </dev/null |
        grep -o '"action":"call","subject":"[^"\\]*"' | sed 's/.*"subject":"//; s/"$//' | sort -u
}

# Profile names on the search path: the NAME column of `paddock profile list`,
# without the header line and without the indented path lines.
_paddock_profile_names() {
    local bin=$1
    "$bin" profile list 2>/dev/null | awk 'NR > 1 && $0 !~ /^[[:space:]]/ && NF { print $1 }'
}

# Tool names the profiles declare: the unindented lines of `paddock tool list -p P...`.
# $1 is the paddock binary, the rest are -p arguments.
_paddock_tool_names() {
    local bin=$1 p
    shift
    (($# > 0)) || return
    local -a args=(tool list)
    for p in "$@"; do
        # shellcheck disable=SC2088 # a literal "~/" left unexpanded in the word
        [[ $p == "~/"* ]] && p=$HOME/${p#"~/"}
        args+=(-p "$p")
    done
    "$bin" "${args[@]}" 2>/dev/null </dev/null | awk '$0 !~ /^[[:space:]]/ && NF { print $1 }'
}

# Appends matching file and folder names to COMPREPLY.
_paddock_add_files() {
    local w
    compopt -o filenames 2>/dev/null
    while IFS= read -r w; do
        COMPREPLY+=("$w")
    done < <(compgen -f -- "$1")
}

# Appends command names that start with $1.
_paddock_add_commands() {
    local w
    while IFS= read -r w; do
        COMPREPLY+=("$w")
    done < <(compgen -c -- "$1" | sort -u)
}

# Appends the words of list $1 (separated by blanks or newlines) that start with $2.
_paddock_add_words() {
    local w
    while IFS= read -r w; do
        [[ -n $w ]] && COMPREPLY+=("$w")
    done < <(compgen -W "$1" -- "$2")
}

_paddock() {
    local cur prev words cword split=false
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -s || return
    else
        # Without bash-completion: rejoin "--opt" "=" "value", which COMP_WORDBREAKS splits.
        words=()
        cword=0
        local i w joined=false
        for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
            w=${COMP_WORDS[i]}
            if [[ $w == "=" && ${#words[@]} -gt 0 && ${words[-1]} == --* ]]; then
                words[-1]+="="
                joined=true
            elif $joined; then
                words[-1]+=$w
                joined=false
            else
                words+=("$w")
            fi
            ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
        done
        ((COMP_CWORD >= ${#COMP_WORDS[@]})) && { words+=(""); cword=$((${#words[@]} - 1)); }
        cur=${words[cword]}
        prev=${words[cword - 1]}
        if [[ $cur == --*=* ]]; then
            prev=${cur%%=*}
            cur=${cur#*=}
            split=true
        fi
    fi
    COMPREPLY=()

    # The paddock being completed (e.g. ./build/src/paddock), for `profile list`.
    local bin=${words[0]}
    # shellcheck disable=SC2088 # a literal "~/" left unexpanded in the word
    [[ $bin == "~/"* ]] && bin=$HOME/${bin#"~/"}
    type -P -- "$bin" >/dev/null 2>&1 || [[ -x $bin ]] || bin=paddock

    # Walk the words before the cursor: which command, and where COMMAND starts.
    local state=top cmd_start=0 need_value=false i w
    # tool list|call and mcp: the -p arguments so far, and how many positionals.
    local -a tool_profiles=()
    local tool_args=0
    # replay: the SESSION argument, once given.
    local replay_session=
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        case $state in
            top | run)
                if $need_value; then
                    need_value=false
                    continue
                fi
                case $w in
                    --)
                        state="command"
                        cmd_start=$((i + 1))
                        break
                        ;;
                    -p | --profile | --ro | --rw | --deny | --tmpfs | --net | --allow-net | --env | --memory | --pids | --cpus | --timeout | --audit | --mcp-config)
                        need_value=true
                        ;;
                    -*) ;;
                    *)
                        if [[ $state == top && $i -eq 1 ]]; then
                            case $w in
                                run) state=run; continue ;;
                                profile) state=profile; continue ;;
                                doctor) state=doctor; continue ;;
                                log) state=log; continue ;;
                                tool) state=tool; continue ;;
                                mcp) state=mcp; continue ;;
                                replay) state=replay; continue ;;
                            esac
                        fi
                        state="command"
                        cmd_start=$i
                        break
                        ;;
                esac
                ;;
            profile)
                case $w in
                    list | show | check | new | trust) state=profile-$w ;;
                esac
                ;;
            log)
                if $need_value; then
                    need_value=false
                    continue
                fi
                [[ $w == --layer ]] && need_value=true
                ;;
            tool)
                case $w in
                    list | call) state=tool-$w ;;
                esac
                ;;
            tool-list | tool-call | mcp)
                if $need_value; then
                    need_value=false
                    [[ ${words[i - 1]} == -p || ${words[i - 1]} == --profile ]] && tool_profiles+=("$w")
                    continue
                fi
                case $w in
                    -p | --profile | --approve | --audit) need_value=true ;;
                    --profile=*) tool_profiles+=("${w#--profile=}") ;;
                    -p?*) tool_profiles+=("${w#-p}") ;;
                    -*) ;;
                    *) tool_args=$((tool_args + 1)) ;;
                esac
                ;;
            replay)
                if $need_value; then
                    need_value=false
                    [[ ${words[i - 1]} == -p || ${words[i - 1]} == --profile ]] && tool_profiles+=("$w")
                    continue
                fi
                case $w in
                    -p | --profile | --call | --tool) need_value=true ;;
                    --profile=*) tool_profiles+=("${w#--profile=}") ;;
                    -p?*) tool_profiles+=("${w#-p}") ;;
                    -*) ;;
                    *)
                        replay_session=$w
                        tool_args=$((tool_args + 1))
                        ;;
                esac
                ;;
        esac
    done

    case $state in
        command)
            if declare -F _command_offset >/dev/null 2>&1; then
                _command_offset "$cmd_start"
            elif ((cword == cmd_start)); then
                _paddock_add_commands "$cur"
            else
                _paddock_add_files "$cur"
            fi
            return
            ;;
        top | run)
            if $need_value || $split; then
                case $prev in
                    -p | --profile)
                        if [[ $cur == */* ]]; then
                            _paddock_add_files "$cur"
                        else
                            _paddock_add_words "$(_paddock_profile_names "$bin")" "$cur"
                        fi
                        ;;
                    --ro | --rw | --deny | --tmpfs | --mcp-config)
                        _paddock_add_files "$cur"
                        ;;
                    --audit)
                        _paddock_add_words "-" "$cur"
                        _paddock_add_files "$cur"
                        ;;
                    --net)
                        _paddock_add_words "none proxy host" "$cur"
                        ;;
                    --env)
                        [[ $cur != *=* ]] && _paddock_add_words "$(compgen -e)" "$cur"
                        ;;
                    --allow-net | --memory | --pids | --cpus | --timeout) ;;
                esac
                return
            fi
            if [[ $cur == -* ]]; then
                local opts="$_paddock_run_value_opts $_paddock_run_flag_opts --"
                ((cword == 1)) && opts+=" --version"
                _paddock_add_words "$opts" "$cur"
                return
            fi
            if [[ $state == top && $cword -eq 1 ]]; then
                _paddock_add_words "run profile doctor log tool mcp replay" "$cur"
                # `paddock CMD` runs CMD: offer commands once something is typed.
                [[ -n $cur ]] && _paddock_add_commands "$cur"
                return
            fi
            # The start of COMMAND.
            _paddock_add_commands "$cur"
            ;;
        profile)
            if [[ $cur == -* ]]; then
                _paddock_add_words "-h --help" "$cur"
            else
                _paddock_add_words "list show check new trust" "$cur"
            fi
            ;;
        profile-show)
            if [[ $cur == -* ]]; then
                _paddock_add_words "--resolved -h --help" "$cur"
            elif [[ $cur == */* ]]; then
                _paddock_add_files "$cur"
            else
                _paddock_add_words "$(_paddock_profile_names "$bin")" "$cur"
            fi
            ;;
        profile-trust)
            if [[ $cur == -* ]]; then
                _paddock_add_words "-h --help" "$cur"
            else
                _paddock_add_files "$cur"
            fi
            ;;
        profile-check)
            if [[ $cur == -* ]]; then
                _paddock_add_words "-h --help" "$cur"
            else
                _paddock_add_words "$(_paddock_profile_names "$bin")" "$cur"
                _paddock_add_files "$cur"
            fi
            ;;
        log)
            if $need_value || [[ $split == true && $prev == --layer ]]; then
                [[ $prev == --layer ]] && _paddock_add_words "$_paddock_audit_layers" "$cur"
                return
            fi
            if [[ $cur == -* ]]; then
                _paddock_add_words "$_paddock_log_opts" "$cur"
            elif [[ $cur == */* ]]; then
                _paddock_add_files "$cur"
            else
                _paddock_add_words "$(_paddock_session_ids)" "$cur"
            fi
            ;;
        tool)
            if [[ $cur == -* ]]; then
                _paddock_add_words "-h --help" "$cur"
            else
                _paddock_add_words "list call" "$cur"
            fi
            ;;
        tool-list | tool-call | mcp)
            if $need_value || $split; then
                case $prev in
                    -p | --profile)
                        if [[ $cur == */* ]]; then
                            _paddock_add_files "$cur"
                        else
                            _paddock_add_words "$(_paddock_profile_names "$bin")" "$cur"
                        fi
                        ;;
                    --approve)
                        _paddock_add_words "prompt never" "$cur"
                        ;;
                    --audit)
                        _paddock_add_words "-" "$cur"
                        _paddock_add_files "$cur"
                        ;;
                esac
                return
            fi
            if [[ $cur == -* ]]; then
                case $state in
                    tool-list) _paddock_add_words "$_paddock_tool_list_opts" "$cur" ;;
                    tool-call)
                        _paddock_add_words "$_paddock_tool_call_opts" "$cur"
                        # The input may be "-": read it from standard input.
                        ((tool_args == 1)) && _paddock_add_words "-" "$cur"
                        ;;
                    mcp) _paddock_add_words "$_paddock_mcp_opts" "$cur" ;;
                esac
                return
            fi
            # tool call NAME: the tools of the profiles given so far.
            if [[ $state == tool-call ]] && ((tool_args == 0)); then
                _paddock_add_words "$(_paddock_tool_names "$bin" "${tool_profiles[@]}")" "$cur"
            fi
            ;;
        replay)
            if $need_value || $split; then
                case $prev in
                    -p | --profile)
                        if [[ $cur == */* ]]; then
                            _paddock_add_files "$cur"
                        else
                            _paddock_add_words "$(_paddock_profile_names "$bin")" "$cur"
                        fi
                        ;;
                    --tool)
                        # The tools of the profiles given with -p, else those the session called.
                        if ((${#tool_profiles[@]} > 0)); then
                            _paddock_add_words "$(_paddock_tool_names "$bin" "${tool_profiles[@]}")" "$cur"
                        elif [[ -n $replay_session ]]; then
                            _paddock_add_words "$(_paddock_session_tool_names "$bin" "$replay_session")" "$cur"
                        fi
                        ;;
                    --call) ;;
                esac
                return
            fi
            if [[ $cur == -* ]]; then
                _paddock_add_words "$_paddock_replay_opts" "$cur"
            elif ((tool_args == 0)); then
                if [[ $cur == */* ]]; then
                    _paddock_add_files "$cur"
                else
                    _paddock_add_words "$(_paddock_session_ids)" "$cur"
                fi
            fi
            ;;
        profile-list | profile-new | doctor)
            [[ $cur == -* ]] && _paddock_add_words "-h --help" "$cur"
            ;;
    esac
} &&
    complete -F _paddock paddock

# ex: filetype=sh
