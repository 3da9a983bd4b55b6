/* SPDX-License-Identifier: MIT */
/*
 * tests/layers/main.c: the program each layer check links a room of daemon/ into, whole, with
 * only the rooms it may call (daemon/meson.build, room_libs). It runs nothing: the proof is the
 * link, which fails on any call into a room not listed.
 */
int main(void)
{
	return 0;
}
