#include "CByteScan.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static inline int is_candidate(const uint8_t *b, size_t i, size_t length, unsigned flags) {
    uint8_t c0 = b[i];
    uint8_t c1 = i + 1 < length ? b[i + 1] : 0;
    uint8_t c3 = i + 3 < length ? b[i + 3] : 0;
    switch (c0) {
    case 'A': return c3 == 'A';
    case 'g': return c1 == 'h' || c1 == 'i';
    case 's': return c1 == 'k';
    case 'x': return c1 == 'o';
    case '-': return c1 == '-';
    case '=': case ':': return (flags & IMAGEGEN_SCAN_GENERIC) != 0;
    case '"': return (flags & IMAGEGEN_SCAN_DOCKER_CONFIG) != 0 && (c1 == 'a' || c1 == 'i');
    default: return 0;
    }
}

size_t imagegen_next_secret_candidate(const uint8_t *b, size_t length, size_t from, size_t to, unsigned flags) {
    size_t i = from;
#if defined(__SSE2__)
    const __m128i A = _mm_set1_epi8('A'), g = _mm_set1_epi8('g'), h = _mm_set1_epi8('h'), ii = _mm_set1_epi8('i');
    const __m128i s = _mm_set1_epi8('s'), k = _mm_set1_epi8('k'), x = _mm_set1_epi8('x'), o = _mm_set1_epi8('o');
    const __m128i dash = _mm_set1_epi8('-'), eq = _mm_set1_epi8('='), colon = _mm_set1_epi8(':');
    const __m128i quote = _mm_set1_epi8('"'), a = _mm_set1_epi8('a');
    while (i < to && i + 19 <= length) {
        __m128i v0 = _mm_loadu_si128((const __m128i *)(b + i));
        __m128i v1 = _mm_loadu_si128((const __m128i *)(b + i + 1));
        __m128i v3 = _mm_loadu_si128((const __m128i *)(b + i + 3));
        __m128i m = _mm_and_si128(_mm_cmpeq_epi8(v0, A), _mm_cmpeq_epi8(v3, A));
        m = _mm_or_si128(m, _mm_and_si128(_mm_cmpeq_epi8(v0, g), _mm_or_si128(_mm_cmpeq_epi8(v1, h), _mm_cmpeq_epi8(v1, ii))));
        m = _mm_or_si128(m, _mm_and_si128(_mm_cmpeq_epi8(v0, s), _mm_cmpeq_epi8(v1, k)));
        m = _mm_or_si128(m, _mm_and_si128(_mm_cmpeq_epi8(v0, x), _mm_cmpeq_epi8(v1, o)));
        m = _mm_or_si128(m, _mm_and_si128(_mm_cmpeq_epi8(v0, dash), _mm_cmpeq_epi8(v1, dash)));
        if (flags & IMAGEGEN_SCAN_GENERIC) {
            m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v0, eq), _mm_cmpeq_epi8(v0, colon)));
        }
        if (flags & IMAGEGEN_SCAN_DOCKER_CONFIG) {
            m = _mm_or_si128(m, _mm_and_si128(_mm_cmpeq_epi8(v0, quote), _mm_or_si128(_mm_cmpeq_epi8(v1, a), _mm_cmpeq_epi8(v1, ii))));
        }
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits) {
            size_t found = i + (size_t)__builtin_ctz(bits);
            return found < to ? found : to;
        }
        i += 16;
    }
#endif
    for (; i < to; i++) {
        if (is_candidate(b, i, length, flags)) return i;
    }
    return to;
}

size_t imagegen_count_newlines(const uint8_t *b, size_t from, size_t to, size_t *last_newline) {
    size_t count = 0;
    size_t i = from;
#if defined(__SSE2__)
    const __m128i nl = _mm_set1_epi8('\n');
    while (i + 16 <= to) {
        unsigned bits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(b + i)), nl));
        if (bits) {
            count += (size_t)__builtin_popcount(bits);
            *last_newline = i + 31 - (size_t)__builtin_clz(bits);
        }
        i += 16;
    }
#endif
    for (; i < to; i++) {
        if (b[i] == '\n') {
            count++;
            *last_newline = i;
        }
    }
    return count;
}
