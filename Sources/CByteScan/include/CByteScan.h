#ifndef IMAGEGEN_CBYTESCAN_H
#define IMAGEGEN_CBYTESCAN_H

#include <stddef.h>
#include <stdint.h>

/// The furthest byte past a position that the candidate test reads.
#define IMAGEGEN_SCAN_REACH 26

/// The first position in [from, to) where a secret may start, or `to` when there is none.
/// A position is a candidate when its byte and a few bytes after it look like the start of one
/// of the rules (the byte classes are in scan.c; `imagegen_is_secret_candidate` is the same test
/// for one position). Positions are candidates only: the caller checks each. Reads up to
/// IMAGEGEN_SCAN_REACH bytes past a position, but never at or past `length`. Uses AVX2 where the
/// processor has it, else SSE2, else one byte at a time: all three give the same answers.
size_t imagegen_next_secret_candidate(const uint8_t *bytes, size_t length, size_t from, size_t to);

/// The candidate test for one position.
int imagegen_is_secret_candidate(const uint8_t *bytes, size_t length, size_t i);

/// The best implementation this processor runs: 2 AVX2, 1 SSE2, 0 one byte at a time.
int imagegen_secret_scan_best(void);

/// Selects the implementation `imagegen_next_secret_candidate` uses (for tests and benchmarks),
/// at most the best; -1 goes back to the best. Returns the one selected.
int imagegen_secret_scan_level(int force);

/// The number of '\n' bytes in [from, to); `last_newline` gets the position of the last one
/// (untouched when there is none).
size_t imagegen_count_newlines(const uint8_t *bytes, size_t from, size_t to, size_t *last_newline);

#endif
