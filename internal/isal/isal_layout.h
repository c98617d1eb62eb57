// The part of ISA-L's API (isa-l/igzip_lib.h, libisal.so.2) that package
// isal uses, loaded with dlopen so that building needs no ISA-L headers.
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>

// struct inflate_state: its size, and where the fields we touch are.
// The first six fields open the struct; block_state and crc_flag follow
// the Huffman tables, whose sizes are fixed by the header's constants.
// TestLayout compares these with offsetof() in the installed header.
#define RC_STATE_SIZE 87368
#define RC_OFF_BLOCK_STATE 21160
#define RC_OFF_CRC_FLAG 21172
#define RC_ISAL_BLOCK_FINISH 5
#define RC_ISAL_GZIP_NO_HDR_VER 6 // the data and the trailer; package isal reads the header

struct rc_state_head {
	uint8_t *next_out;
	uint32_t avail_out;
	uint32_t total_out;
	uint8_t *next_in;
	uint64_t read_in;
	uint32_t avail_in;
	int32_t read_in_length;
};

typedef void (*rc_init_fn)(void *);
typedef int (*rc_inflate_fn)(void *);

static rc_init_fn rc_inflate_init, rc_inflate_reset;
static rc_inflate_fn rc_inflate;

// rc_isal_load opens the library once; 0 when it is missing.
static int rc_isal_load(void) {
	void *h = dlopen("libisal.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!h) return 0;
	rc_inflate_init = (rc_init_fn)dlsym(h, "isal_inflate_init");
	rc_inflate_reset = (rc_init_fn)dlsym(h, "isal_inflate_reset");
	rc_inflate = (rc_inflate_fn)dlsym(h, "isal_inflate");
	return rc_inflate_init && rc_inflate_reset && rc_inflate;
}

// rc_new allocates a zeroed state with room to spare, ready for a gzip
// member's data after its header: ISA-L inflates it and checks the
// trailer.
static void *rc_new(void) {
	void *s = calloc(1, 2 * RC_STATE_SIZE);
	if (!s) return NULL;
	rc_inflate_init(s);
	*(uint32_t *)((char *)s + RC_OFF_CRC_FLAG) = RC_ISAL_GZIP_NO_HDR_VER;
	return s;
}

// rc_restart readies s for the next member (reset keeps crc_flag).
static void rc_restart(void *s) { rc_inflate_reset(s); }

// rc_step inflates from in into out. The buffers are the caller's (Go
// memory): they are in the state only during the call.
static int rc_step(void *s, uint8_t *in, uint32_t in_len, uint8_t *out, uint32_t out_len,
		   uint32_t *in_left, uint32_t *out_left, int *finished) {
	struct rc_state_head *h = (struct rc_state_head *)s;
	h->next_in = in;
	h->avail_in = in_len;
	h->next_out = out;
	h->avail_out = out_len;
	int ret = rc_inflate(s);
	*in_left = h->avail_in;
	*out_left = h->avail_out;
	*finished = *(int32_t *)((char *)s + RC_OFF_BLOCK_STATE) == RC_ISAL_BLOCK_FINISH;
	h->next_in = NULL;
	h->next_out = NULL;
	return ret;
}
