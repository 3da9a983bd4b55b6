/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/set-value.h: a parameter's new value as a user types it (`echoelctl set
 * vol.gain_db -6dB`, `50%`, `+3`), read against the parameter and its current value.
 *
 *   -6   -6dB   -6 dB       absolute; a unit, if given, must be the parameter's (dB, ms, s, Hz)
 *   +3   +3dB   3dB+  3dB-  relative: a leading '+' raises; a trailing '+' or '-' (amixer's
 *                           way) raises or lowers; the result is held within the range
 *   50%  5%+  5%-  +5%      a share of the range: for a dB parameter on a cubic volume curve
 *                           (amplitude = share^3: 50 % is -18.1 dB, 100 % is 0 dB, 0 % the
 *                           minimum), for any other linearly from its minimum to its maximum
 *   on off yes no true false 1 or 0
 *
 * Thread: any (no state).
 */
#pragma once

struct el_error;
struct node_param;

/*
 * text read for p (borrowed) whose value is now current. 0 with *ret; -EINVAL with a message
 * saying what was expected (a unit that is not the parameter's names both).
 */
int ctl_set_value_parse(const char *text, const struct node_param *p, double current, double *ret,
			struct el_error *reterr);
