/*
 * vireo-powerbutton [-n]
 *
 * The default guest's power-button handler. Finds the input device named
 * "Vireo power button" (the VMM's virtio-input device offering KEY_POWER,
 * see docs/management.md), reads its events from /dev/input/eventN and, on
 * a KEY_POWER press, powers the machine off cleanly: the same steps as
 * /init's do_poweroff (sync, remount / read-only, power off), done here
 * with system calls rather than by signalling init, because init (a busybox
 * shell as PID 1) only runs traps once its foreground command, the console
 * shell, has returned.
 *
 * -n: print what would happen instead of powering off (for testing).
 * Exits 1 at once if there is no such device; /init starts it only when the
 * device exists.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#define DEVICE_NAME "Vireo power button"

/* Open /dev/input/eventN of the device called DEVICE_NAME, or -1. */
static int open_button(char *path, size_t pathlen)
{
	DIR *d = opendir("/sys/class/input");
	if (!d)
		return -1;
	struct dirent *e;
	int fd = -1;
	while (fd < 0 && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "event", 5) != 0)
			continue;
		char name_path[300], name[256];
		snprintf(name_path, sizeof(name_path), "/sys/class/input/%s/device/name", e->d_name);
		FILE *f = fopen(name_path, "r");
		if (!f)
			continue;
		size_t n = fread(name, 1, sizeof(name) - 1, f);
		fclose(f);
		name[n] = 0;
		name[strcspn(name, "\n")] = 0;
		if (strcmp(name, DEVICE_NAME) != 0)
			continue;
		snprintf(path, pathlen, "/dev/input/%s", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fprintf(stderr, "vireo-powerbutton: %s: %s\n", path, strerror(errno));
	}
	closedir(d);
	return fd;
}

static void power_off(void)
{
	sync();
	/* Fails harmlessly on the initramfs's rootfs. */
	mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
	sync();
	reboot(RB_POWER_OFF);
	/* Not allowed to (not root?): let busybox try. */
	execl("/bin/poweroff", "poweroff", "-f", (char *)NULL);
	fprintf(stderr, "vireo-powerbutton: cannot power off: %s\n", strerror(errno));
}

int main(int argc, char **argv)
{
	int dry = argc > 1 && strcmp(argv[1], "-n") == 0;
	char path[300];
	int fd = open_button(path, sizeof(path));
	if (fd < 0) {
		fprintf(stderr, "vireo-powerbutton: no \"%s\" input device\n", DEVICE_NAME);
		return 1;
	}
	if (dry)
		printf("vireo-powerbutton: watching %s\n", path);
	for (;;) {
		struct input_event ev[16];
		ssize_t r = read(fd, ev, sizeof(ev));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "vireo-powerbutton: %s: %s\n", path, r < 0 ? strerror(errno) : "end of file");
			return 1;
		}
		for (size_t i = 0; i < (size_t)r / sizeof(ev[0]); i++) {
			if (ev[i].type != EV_KEY || ev[i].code != KEY_POWER || ev[i].value != 1)
				continue;
			if (dry) {
				printf("vireo-powerbutton: KEY_POWER pressed\n");
				fflush(stdout);
				continue;
			}
			fprintf(stderr, "vireo-powerbutton: power button pressed; powering off\n");
			power_off();
			return 1;
		}
	}
}
