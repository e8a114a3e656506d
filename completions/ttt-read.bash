_ttt_read_completion() {
    local IFS=$'
'
    COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" \
                   COMP_CWORD=$COMP_CWORD \
                   _TTT_READ_COMPLETE=complete_bash $1 ) )
    return 0
}

complete -o default -F _ttt_read_completion ttt-read
