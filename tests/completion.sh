#!/bin/bash
# completion.sh: `pooltop completion bash`, loaded in bash, completes options (every one the
# parser knows), built-ins after --builtin, files after a FILE option, the subcommands; and
# leaves the command and the items alone.
# shellcheck source=tests/lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 19

"$POOLTOP" completion bash >"$T/complete.bash"
is "$?" 0 "pooltop completion bash: exit 0"
# offers WORD...: what bash offers for the last word, one per line, sorted.
offers() {
	(
		cd "$T" || exit 1
		# shellcheck disable=SC1091
		. ./complete.bash
		COMP_WORDS=(pooltop "$@")
		COMP_CWORD=$#
		_pooltop
		printf '%s\n' "${COMPREPLY[@]}" | sort
	)
}
like "$(offers --ha)" '^--halt$' "--ha completes to --halt"
# Every long option --help lists is offered after --.
missing=$("$POOLTOP" --help | grep -Eo -- '--[a-z][a-z0-9-]+' | sort -u | while read -r o; do
	offers -- "$o" | grep -qx -- "$o" || offers "$o" | grep -qx -- "$o" ||
		offers ls "$o" | grep -qx -- "$o" || offers attach "$o" | grep -qx -- "$o" ||
		offers submit "$o" | grep -qx -- "$o" || offers collect "$o" | grep -qx -- "$o" ||
		echo "$o"
done)
is "$missing" "" "every long option in --help completes"
is "$(offers attach --ba)" "--batch" "attach --ba completes to --batch (the cluster view)"
is "$(offers ls --re)" "--redis" "ls --re completes to --redis"
is "$(offers --builtin sq)" "square" "--builtin sq completes to square"
: >"$T/items.txt"
is "$(offers --joblog it)" "items.txt" "--joblog completes a file name"
is "$(offers -a it)" "items.txt" "-a completes a file name"
is "$(offers de)" "demo" "the first word: demo"
is "$(offers a)" "attach" "the first word: attach"
mkdir -m 700 "$T/pooltop-$(id -u)"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/pooltop-$(id -u)/nightly.sock"
is "$(offers attach ni)" "nightly" "attach completes a batch's name (its socket's)"
is "$(offers sub)" "submit" "the first word: submit"
is "$(offers submit --redis redis://h --m)" "--more" "submit --m completes to --more"
is "$(offers collect --w)" "--wait" "collect --w completes to --wait"
is "$(offers collect --joblog it)" "items.txt" "collect --joblog completes a file name"
is "$(offers -- ech)" "" "after --, the command's words are not pooltop's options"
"$POOLTOP" completion fish >/dev/null 2>"$T/err"
like "$(cat "$T/err")" "^pooltop: completion: 'fish': bash or zsh" \
	"another shell: a one-line error naming it"
"$POOLTOP" completion zsh >"$T/complete.zsh"
like "$(head -1 "$T/complete.zsh")" '^#compdef pooltop$' "zsh: a #compdef file"
# zsh runs the same function through bashcompinit.
if command -v zsh >/dev/null; then
	is "$(zsh -c "source $T/complete.zsh; COMP_WORDS=(pooltop --ha); COMP_CWORD=1; _pooltop; print -l \$COMPREPLY")" \
		"--halt" "zsh: --ha completes to --halt"
else
	ok "# SKIP zsh is not installed"
fi
