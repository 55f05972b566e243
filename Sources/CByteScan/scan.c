#include "CByteScan.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define IMAGEGEN_X86 1
#endif

/* The candidate test. Each rule of the secret scanner starts with a byte and has a byte a few
 * places on that few ordinary texts have there (most often the '_' or '-' of a token prefix):
 *
 *   A..A A..a   AKIA… (AWS key ids), AIza… (Google)       g.._ g...- g...._  ghp_, glpat-, github_pat_
 *   [sr]k[-_]   sk-…, sk_live_, rk_live_                    x...-  xoxb-        n.._ d.._  npm_, dop_
 *   p...- pa.s  pypi-, password (netrc)                    h._    hf_          k..-  key- (Mailgun)
 *   SK S..      SK… (Twilio), SG. (SendGrid)                H...-  HRKU-        eyJ   JWTs
 *   LS0         base64 of "-----"                           [MNO] with '.' at 24 or 26: Discord
 *   --          PEM                                         = :   assignments, headers, URLs
 *   "a "i       "auth", "identitytoken" (docker config)
 *   A..- AC     AGE-SECRET-KEY-1…, AC… (an account id a token follows)
 *   [Bb]as..' ' Basic credentials anywhere                  g...-  glrt-, gldt- (GitLab)
 *   d.. da.i    dp.st.… (Doppler), dapi… (Databricks)       req    requirepass (redis.conf)
 *   P...-       PMAK-… (Postman)                            -[pusa] -p PASS, -u USER:PASS, -S(ecureString)
 *   <[pstak]    <password>…</password> (XML settings)
 */
static inline uint8_t at(const uint8_t *b, size_t length, size_t i) { return i < length ? b[i] : 0; }

int imagegen_is_secret_candidate(const uint8_t *b, size_t length, size_t i) {
    uint8_t c0 = b[i], c1 = at(b, length, i + 1), c2 = at(b, length, i + 2), c3 = at(b, length, i + 3);
    uint8_t c4 = at(b, length, i + 4);
    switch (c0) {
    case 'A': return c3 == 'A' || c3 == 'a' || c3 == '-' || c1 == 'C';
    case 'B': case 'b': return c1 == 'a' && c2 == 's' && at(b, length, i + 5) == ' ';
    case 'g': return c3 == '_' || c4 == '-' || at(b, length, i + 5) == '-' || at(b, length, i + 6) == '_';
    case 's': return c1 == 'k' && (c2 == '-' || c2 == '_');
    case 'r': return (c1 == 'k' && (c2 == '-' || c2 == '_')) || (c1 == 'e' && c2 == 'q');
    case 'x': return c4 == '-';
    case 'n': return c3 == '_';
    case 'd': return c3 == '_' || c2 == '.' || (c1 == 'a' && c3 == 'i');
    case 'P': return c4 == '-';
    case '<': return c1 == 'p' || c1 == 's' || c1 == 't' || c1 == 'a' || c1 == 'k';
    case 'p': return c4 == '-' || (c1 == 'a' && c3 == 's');
    case 'H': return c4 == '-';
    case 'h': return c2 == '_';
    case 'k': return c3 == '-';
    case 'S': return c1 == 'K' || c2 == '.';
    case 'e': return c1 == 'y' && c2 == 'J';
    case 'L': return c1 == 'S' && c2 == '0';
    case 'M': case 'N': case 'O': return at(b, length, i + 24) == '.' || at(b, length, i + 26) == '.';
    case '-': return c1 == '-' || c1 == 'p' || c1 == 'u' || c1 == 'a' || c1 == 'S';
    case '=': case ':': return 1;
    case '"': return c1 == 'a' || c1 == 'i';
    default: return 0;
    }
}

static size_t scan_bytes(const uint8_t *b, size_t length, size_t i, size_t to) {
    for (; i < to; i++) {
        if (imagegen_is_secret_candidate(b, length, i)) return i;
    }
    return to;
}

#ifdef IMAGEGEN_X86
/* One body for both vector widths: V is the vector type, the macros its operations. */
#define CANDIDATES(V, LOAD, SET1, EQ, AND, OR, MOVEMASK, WIDTH)                                   \
    const V A = SET1('A'), a = SET1('a'), g = SET1('g'), s = SET1('s'), r = SET1('r'), k = SET1('k'); \
    const V x = SET1('x'), n = SET1('n'), d = SET1('d'), p = SET1('p'), H = SET1('H'), h = SET1('h'); \
    const V S = SET1('S'), K = SET1('K'), e = SET1('e'), y = SET1('y'), J = SET1('J'), L = SET1('L'); \
    const V zero = SET1('0'), M = SET1('M'), N = SET1('N'), O = SET1('O'), dash = SET1('-');     \
    const V under = SET1('_'), dot = SET1('.'), eq = SET1('='), colon = SET1(':'), quote = SET1('"'); \
    const V ii = SET1('i'), B = SET1('B'), bb = SET1('b'), C = SET1('C'), P = SET1('P'), q = SET1('q'); \
    const V lt = SET1('<'), t = SET1('t'), u = SET1('u'), space = SET1(' ');                         \
    while (i < to && i + (WIDTH) + IMAGEGEN_SCAN_REACH <= length) {                                 \
        V v0 = LOAD(b + i), v1 = LOAD(b + i + 1), v2 = LOAD(b + i + 2), v3 = LOAD(b + i + 3);       \
        V v4 = LOAD(b + i + 4);                                                                     \
        V u3 = EQ(v3, under), d4 = EQ(v4, dash), e1k = EQ(v1, k), v1a = EQ(v1, a);                  \
        V m = AND(EQ(v0, A), OR(OR(EQ(v3, A), EQ(v3, a)), OR(EQ(v3, dash), EQ(v1, C))));            \
        m = OR(m, AND(AND(OR(EQ(v0, B), EQ(v0, bb)), AND(v1a, EQ(v2, s))), EQ(LOAD(b + i + 5), space)));\
        m = OR(m, AND(EQ(v0, g), OR(OR(u3, d4), OR(EQ(LOAD(b + i + 5), dash), EQ(LOAD(b + i + 6), under)))));\
        m = OR(m, AND(AND(OR(EQ(v0, s), EQ(v0, r)), e1k), OR(EQ(v2, dash), EQ(v2, under))));        \
        m = OR(m, AND(AND(EQ(v0, r), EQ(v1, e)), EQ(v2, q)));                                       \
        m = OR(m, AND(OR(OR(EQ(v0, x), EQ(v0, P)), OR(EQ(v0, H), EQ(v0, p))), d4));                 \
        m = OR(m, AND(OR(EQ(v0, n), EQ(v0, d)), u3));                                               \
        m = OR(m, AND(EQ(v0, d), OR(EQ(v2, dot), AND(v1a, EQ(v3, ii)))));                           \
        m = OR(m, AND(EQ(v0, lt), OR(OR(EQ(v1, p), EQ(v1, s)), OR(OR(EQ(v1, t), v1a), EQ(v1, k)))));\
        m = OR(m, AND(AND(EQ(v0, p), v1a), EQ(v3, s)));                                             \
        m = OR(m, AND(EQ(v0, h), EQ(v2, under)));                                                   \
        m = OR(m, AND(EQ(v0, k), EQ(v3, dash)));                                                    \
        m = OR(m, AND(EQ(v0, S), OR(EQ(v1, K), EQ(v2, dot))));                                      \
        m = OR(m, AND(AND(EQ(v0, e), EQ(v1, y)), EQ(v2, J)));                                       \
        m = OR(m, AND(AND(EQ(v0, L), EQ(v1, S)), EQ(v2, zero)));                                    \
        m = OR(m, AND(OR(EQ(v0, M), OR(EQ(v0, N), EQ(v0, O))),                                      \
                      OR(EQ(LOAD(b + i + 24), dot), EQ(LOAD(b + i + 26), dot))));                   \
        m = OR(m, AND(EQ(v0, dash), OR(OR(EQ(v1, dash), EQ(v1, p)), OR(OR(EQ(v1, u), v1a), EQ(v1, S))))); \
        m = OR(m, OR(EQ(v0, eq), EQ(v0, colon)));                                                   \
        m = OR(m, AND(EQ(v0, quote), OR(v1a, EQ(v1, ii))));                                         \
        unsigned bits = (unsigned)MOVEMASK(m);                                                      \
        if (bits) {                                                                                 \
            size_t found = i + (size_t)__builtin_ctz(bits);                                         \
            return found < to ? found : to;                                                         \
        }                                                                                           \
        i += (WIDTH);                                                                               \
    }

#define LOAD128(p) _mm_loadu_si128((const __m128i *)(p))
static size_t scan_sse2(const uint8_t *b, size_t length, size_t i, size_t to) {
    CANDIDATES(__m128i, LOAD128, _mm_set1_epi8, _mm_cmpeq_epi8, _mm_and_si128, _mm_or_si128, _mm_movemask_epi8, 16)
    return scan_bytes(b, length, i, to);
}

#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(p))
__attribute__((target("avx2")))
static size_t scan_avx2(const uint8_t *b, size_t length, size_t i, size_t to) {
    CANDIDATES(__m256i, LOAD256, _mm256_set1_epi8, _mm256_cmpeq_epi8, _mm256_and_si256, _mm256_or_si256, _mm256_movemask_epi8, 32)
    return scan_sse2(b, length, i, to);
}
#endif

int imagegen_secret_scan_best(void) {
#ifdef IMAGEGEN_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 2 : 1;
#else
    return 0;
#endif
}

/* Read and written atomically: scans run on several threads at once. */
static int level = -1;

int imagegen_secret_scan_level(int force) {
    int best = imagegen_secret_scan_best();
    int chosen = force < 0 || force > best ? best : force;
    __atomic_store_n(&level, chosen, __ATOMIC_RELAXED);
    return chosen;
}

size_t imagegen_next_secret_candidate(const uint8_t *b, size_t length, size_t from, size_t to) {
    int chosen = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (chosen < 0) chosen = imagegen_secret_scan_level(-1);
#ifdef IMAGEGEN_X86
    if (chosen == 2) return scan_avx2(b, length, from, to);
    if (chosen == 1) return scan_sse2(b, length, from, to);
#endif
    return scan_bytes(b, length, from, to);
}

size_t imagegen_count_newlines(const uint8_t *b, size_t from, size_t to, size_t *last_newline) {
    size_t count = 0;
    size_t i = from;
#ifdef IMAGEGEN_X86
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
