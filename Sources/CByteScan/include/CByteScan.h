#ifndef IMAGEGEN_CBYTESCAN_H
#define IMAGEGEN_CBYTESCAN_H

#include <stddef.h>
#include <stdint.h>

/// Which optional secret rules' start bytes to look for, besides the token rules.
enum {
    IMAGEGEN_SCAN_GENERIC = 1,       /* '=' and ':' (key = value assignments) */
    IMAGEGEN_SCAN_DOCKER_CONFIG = 2, /* "a and "i ("auth", "identitytoken") */
};

/// The first position in [from, to) where a secret may start (AWS "A..A", "gh", "gi", "sk",
/// "xo", "--", plus the optional starts), or `to` when there is none. Positions are candidates
/// only: the caller checks each. Reads up to 19 bytes past a position, but never at or past `length`.
size_t imagegen_next_secret_candidate(const uint8_t *bytes, size_t length, size_t from, size_t to, unsigned flags);

/// The number of '\n' bytes in [from, to); `last_newline` gets the position of the last one
/// (untouched when there is none).
size_t imagegen_count_newlines(const uint8_t *bytes, size_t from, size_t to, size_t *last_newline);

#endif
