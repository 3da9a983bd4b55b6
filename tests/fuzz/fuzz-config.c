/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the configuration parser and the typed getters: any input either loads
 * or is refused with a message, every getter on every entry of what loaded either reads a
 * value or refuses it, and the backends' sections ([jack], [pipewire], [alsa]) are checked as
 * `--check-config` checks them (not [dummy]'s, which opens the file it names). Nothing may crash,
 * read out of bounds or leak (ASan/UBSan/LSan).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/backend/backend.h"
#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "tests/fuzz/fuzz-text.h"

/* Far beyond a real config file; larger inputs only make each run slower. */
#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_entry(const struct conf_section *sec, const char *key)
{
	static const char *const modes[] = {"gain", "fir", "eq", "tone"};
	struct el_error err;
	double list[4], d;
	unsigned idx;
	uint32_t u;
	size_t n;
	bool b;

	conf_get_u32(sec, key, 0, 32, 8192, &u, &err);
	conf_get_u32(sec, key, 0, 0, UINT32_MAX, &u, &err);
	conf_get_double(sec, key, 0.0, -120.0, 24.0, &d, &err);
	conf_get_bool(sec, key, false, &b, &err);
	conf_get_enum(sec, key, 0, modes, EL_N_ELEMENTS(modes), &idx, &err);
	conf_get_double_list(sec, key, -1e6, 1e6, list, EL_N_ELEMENTS(list), &n, &err);
	(void)conf_get_string(sec, key, NULL);
	conf_error_entry(&err, -EINVAL, conf_section_find(sec, key), "fuzz %s", key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const allowed[] = {"type", "input", "rate", "block", "gain_db", NULL};
	struct el_error err;
	struct conf *c = NULL;
	char *text;

	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	text = fuzz_text(data, size);
	if (!text)
		return 0;
	if (conf_load_string(text, "fuzz.conf", &c, &err) == 0) {
		for (size_t i = 0; i < conf_get_n_sections(c); i++) {
			const struct conf_section *sec = conf_get_section(c, i);

			if (conf_find_section(c, sec->name) != sec)
				abort();
			for (size_t j = 0; j < sec->n_entries; j++)
				fuzz_entry(sec, sec->entries[j].key);
			conf_check_keys(sec, allowed, &err);
			conf_error_section(&err, -EINVAL, sec, "fuzz");
		}
		be_jack_ops.check_config(c, &err);
		if (be_pipewire_ops.check_config)
			be_pipewire_ops.check_config(c, &err);
		be_alsa_ops.check_config(c, &err);
		c = conf_free(c);
	}
	free(text);
	return 0;
}
