/* `pooltop completion bash`: a bash completion script made from the option table and the list
 * of built-ins, so that it knows every option the parser knows. What it completes: option
 * names; a file for an option whose argument is a FILE (and for -a); the built-ins' names after
 * --builtin; GNU parallel's forms after --halt; the subcommands as the first word. After "--",
 * ":::" or "::::" the words are the command's and the items: files, as bash would. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "job.h"

struct words {
	FILE *f;
	bool files; /* list the options whose argument is a file ("-a|--arg-file|..."), else
		       every option (" --jobs -j ...") */
	unsigned n; /* written so far */
};

static void put_option(void *data, const char *name, int short_name, const char *argh)
{
	struct words *w = data;
	bool file = argh && (strstr(argh, "FILE") != NULL);
	if (w->files && !file)
		return;
	const char *sep = w->files ? (w->n ? "|" : "") : " ";
	fprintf(w->f, "%s--%s", sep, name);
	if (short_name)
		fprintf(w->f, w->files ? "|-%c" : " -%c", short_name);
	w->n++;
}

/* zsh completes with bash's functions once bashcompinit is loaded: the file installed as
 * site-functions/_pooltop loads it, then defines the same function. */
void cli_completion_zsh(FILE *f)
{
	fputs("#compdef pooltop\n"
	      "# zsh completion for pooltop, through bash's (bashcompinit)\n"
	      "autoload -U +X bashcompinit && bashcompinit\n",
	      f);
	cli_completion_bash(f);
}

void cli_completion_bash(FILE *f)
{
	struct words all = {f, false, 0}, files = {f, true, 0};
	fputs("# bash completion for pooltop: eval \"$(pooltop completion bash)\", or save it as\n"
	      "# ~/.local/share/bash-completion/completions/pooltop\n"
	      "_pooltop() {\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} i\n"
	      "\tCOMPREPLY=()\n"
	      "\tif ((COMP_CWORD > 1)); then\n"
	      "\t\tcase ${COMP_WORDS[1]} in\n"
	      "\t\tls)\n"
	      "\t\t\tmapfile -t COMPREPLY < <(compgen -W \"--json --wipe --redis\" -- \"$cur\")\n"
	      "\t\t\treturn ;;\n"
	      "\t\tattach | status)\n"
	      "\t\t\tif [[ $cur == -* ]]; then\n"
	      "\t\t\t\tmapfile -t COMPREPLY < <(compgen -W \"--read-only --json --socket "
	      "--exit-when-done --redis --batch\" -- \"$cur\")\n"
	      "\t\t\telse\n"
	      "\t\t\t\tmapfile -t COMPREPLY < <(compgen -W \"$(cd \"${POOLTOP_TMPDIR:-/tmp}/"
	      "pooltop-$(id -u)\" 2>/dev/null && for i in *.sock; do [[ -e $i ]] && "
	      "echo \"${i%.sock}\"; done)\" -- \"$cur\")\n"
	      "\t\t\tfi\n"
	      "\t\t\treturn ;;\n"
	      "\t\tsubmit | collect)\n"
	      "\t\t\tcase $prev in\n"
	      "\t\t\t-a | --joblog | --results)\n"
	      "\t\t\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
	      "\t\t\t--redis | --batch) ;;\n"
	      "\t\t\t*)\n"
	      "\t\t\t\tif [[ $cur == -* && ${COMP_WORDS[1]} == submit ]]; then\n"
	      "\t\t\t\t\tmapfile -t COMPREPLY < <(compgen -W \"--redis --batch --more -a "
	      "-0\" -- \"$cur\")\n"
	      "\t\t\t\telif [[ $cur == -* ]]; then\n"
	      "\t\t\t\t\tmapfile -t COMPREPLY < <(compgen -W \"--redis --batch --joblog "
	      "--results --wait\" -- \"$cur\")\n"
	      "\t\t\t\tfi ;;\n"
	      "\t\t\tesac\n"
	      "\t\t\treturn ;;\n"
	      "\t\tesac\n"
	      "\tfi\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tcase ${COMP_WORDS[i]} in\n"
	      "\t\t-- | ::: | ::::)\n"
	      "\t\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
	      "\t\t\treturn ;;\n"
	      "\t\tesac\n"
	      "\tdone\n"
	      "\tcase $prev in\n"
	      "\t--builtin)\n"
	      "\t\tmapfile -t COMPREPLY < <(compgen -W \"",
	      f);
	for (const struct job_kind *k = job_builtin_kinds; k->name; k++)
		if (strcmp(k->name, "demo") != 0)
			fprintf(f, "%s%s", k == job_builtin_kinds ? "" : " ", k->name);
	fputs("\" -- \"$cur\")\n"
	      "\t\treturn ;;\n"
	      "\t--halt)\n"
	      "\t\tmapfile -t COMPREPLY < <(compgen -W \"now,fail=1 soon,fail=1 now,success=1 "
	      "soon,success=1 never\" -- \"$cur\")\n"
	      "\t\treturn ;;\n"
	      "\t",
	      f);
	cli_each_option(put_option, &files);
	fputs(")\n"
	      "\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
	      "\t\treturn ;;\n"
	      "\tesac\n"
	      "\tif [[ $cur == -* ]]; then\n"
	      "\t\tmapfile -t COMPREPLY < <(compgen -W \"",
	      f);
	cli_each_option(put_option, &all);
	fputs(" --\" -- \"$cur\")\n"
	      "\telif ((COMP_CWORD == 1)); then\n"
	      "\t\tmapfile -t COMPREPLY < <(compgen -W \"demo completion ls attach status submit "
	      "collect\" -- "
	      "\"$cur\")\n"
	      "\telif [[ $prev == demo ]]; then\n"
	      "\t\tmapfile -t COMPREPLY < <(compgen -W \"exitcodes\" -- \"$cur\")\n"
	      "\tfi\n"
	      "}\n"
	      "complete -F _pooltop pooltop\n",
	      f);
}
