/*
 * vireo-sigdfl COMMAND [ARG...]
 *
 * Runs COMMAND with every signal at its default action and none blocked.
 * The init script starts the console shell in the background (so that its
 * own traps for poweroff/reboot run at once), and a shell without job
 * control starts background commands with SIGINT and SIGQUIT ignored; an
 * interactive shell would keep them ignored for good, and Ctrl-C would do
 * nothing.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: vireo-sigdfl COMMAND [ARG...]\n");
		return 2;
	}
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL); /* fails harmlessly for KILL, STOP and unused numbers */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
