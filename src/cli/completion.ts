/** Shell completion scripts for `tock completion bash|zsh|fish`. */
const commands = "agent job exec keygen version completion help";
const jobSubs = "ls get apply run next delete toggle";
const execSubs = "ls get kill";
const agentFlags =
  "--dev --server --bootstrap-expect --data-dir --http-addr --node-name --tag --config --ui --log-level";

export function completionScript(shell: string): string | undefined {
  switch (shell) {
    case "bash":
      return `# bash completion for tock; load with: source <(tock completion bash)
_tock() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]}
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=($(compgen -W "${commands}" -- "$cur")); return; fi
  case "$cmd" in
    job) [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "${jobSubs}" -- "$cur")) ;;
    exec) [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "${execSubs}" -- "$cur")) ;;
    agent) COMPREPLY=($(compgen -W "${agentFlags}" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
  esac
}
complete -F _tock tock`;
    case "zsh":
      return `#compdef tock
# zsh completion for tock; load with: source <(tock completion zsh)
_tock() {
  local -a cmds; cmds=(${commands})
  if (( CURRENT == 2 )); then compadd -- $cmds; return; fi
  case $words[2] in
    job) (( CURRENT == 3 )) && compadd -- ${jobSubs} ;;
    exec) (( CURRENT == 3 )) && compadd -- ${execSubs} ;;
    agent) compadd -- ${agentFlags} ;;
    completion) compadd -- bash zsh fish ;;
  esac
}
compdef _tock tock`;
    case "fish":
      return [
        "# fish completion for tock; load with: tock completion fish | source",
        `complete -c tock -f -n "__fish_use_subcommand" -a "${commands}"`,
        `complete -c tock -f -n "__fish_seen_subcommand_from job" -a "${jobSubs}"`,
        `complete -c tock -f -n "__fish_seen_subcommand_from exec" -a "${execSubs}"`,
        `complete -c tock -f -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"`,
        ...agentFlags.split(" ").map((f) =>
          `complete -c tock -n "__fish_seen_subcommand_from agent" -l ${f.slice(2)}`
        ),
      ].join("\n");
    default:
      return undefined;
  }
}
