/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-fft-fixture.h: the cmocka group fixture of the convolver tests that need
 * nothing but an FFT plan cache: *state is a struct dsp_fft_cache * (estimated plans: quick to
 * make, and the tests check results, not speed).
 */
#pragma once

#include "dsp/fft.h"

static int test_fft_setup(void **state)
{
	struct dsp_fft_cache *fft = NULL;
	int r = dsp_fft_cache_new(DSP_FFT_ESTIMATE, &fft);

	*state = fft;
	return r;
}

static int test_fft_teardown(void **state)
{
	dsp_fft_cache_free(*state);
	return 0;
}
