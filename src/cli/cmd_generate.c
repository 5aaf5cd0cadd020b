/* cmd_generate.c: `erase-mpi generate`: options of the contextual and hierarchical SBM
 * generators (src/io/generate.c, docs/GENERATE.md) and --help. Model checks live in
 * er_generate, not here (except that the tree options need --model hsbm). */
#include <stdio.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/dataset.h"

static const char *const model_names[] = {"csbm", "hsbm"}; /* er_gen_model */
static const er_enum_names models = ER_ENUM_NAMES(model_names);

#define DEF_BRANCHING 2
#define DEF_ESCAPE 0.65

typedef struct {
  er_gen_model model;
  int64_t nodes, classes, features, train_per_class, val, test, seed, levels, branching;
  double avg_degree, homophily, feature_snr, escape;
  char out[4096];
} generate_args;

#define A generate_args
static const er_opt generate_opts[] = {
    ER_OPT_E(A, "model", model, models,
             "csbm: contextual SBM, no locality; hsbm: hierarchical SBM,\n"
             "blocks in a tree, most edges nearby (see below)"),
    ER_OPT_I(A, "nodes", nodes, 2, INT64_C(1) << 40, "N", "nodes (>= 2)"),
    ER_OPT_F(A, "avg-degree", avg_degree, 0, 1e12, "D", "mean degree, in (0, N-1]"),
    ER_OPT_I(A, "classes", classes, 2, INT32_MAX, "K", "classes, in [2, N]"),
    ER_OPT_I(A, "features", features, 1, INT64_C(1) << 20, "F", "feature dimension"),
    ER_OPT_F(A, "homophily", homophily, 0, 1, "H", "fraction of same-class edges, in [0, 1]"),
    ER_OPT_F(A, "feature-snr", feature_snr, 0, 1e6, "S", "class-mean scale over unit noise, >= 0"),
    ER_OPT_I(A, "train-per-class", train_per_class, 1, INT64_MAX, "T", "training nodes per class"),
    ER_OPT_I(A, "val", val, 0, INT64_MAX, "V", "validation nodes"),
    ER_OPT_I(A, "test", test, 0, INT64_MAX, "U", "test nodes; T*K + V + U <= N"),
    ER_OPT_I(A, "seed", seed, 0, INT64_MAX, "SEED", "seed, >= 0"),
    ER_OPT_I(A, "levels", levels, 0, 40, "L",
             "hsbm: tree depth, b^L leaf blocks of >= K nodes each; 0 = the\n"
             "deepest tree whose leaves hold >= max(128, K) nodes"),
    ER_OPT_I(A, "branching", branching, 2, 1 << 20, "B", "hsbm: children per block, >= 2"),
    ER_OPT_F(A, "escape", escape, 0, 1, "R",
             "hsbm: an endpoint leaves its block at each level with\n"
             "probability R: P(outside the level-l block) = R^(l+1)"),
    ER_OPT_S(A, "out", out, "DATA.h5", "output file (required; written to a temporary name first)"),
};
#undef A

static const er_cmd_spec generate_spec = {
    .cmd = "generate",
    .usage = "usage: [mpirun -n P] erase-mpi generate [options] --out DATA.h5\n"
             "\n"
             "Contextual (csbm) or hierarchical (hsbm) stochastic block model -> HDF5\n"
             "dataset (docs/FORMAT.md, docs/GENERATE.md). Every rank builds its block of nodes;\n"
             "the datasets are identical for a seed at any number of ranks.\n",
    .opts = generate_opts,
    .n_opts = (int)(sizeof generate_opts / sizeof generate_opts[0]),
    .epilog =
        "csbm (all randomness, hsbm's too, from Philox at (seed, purpose, node id, index)):\n"
        "  classes   perm = keyed Feistel bijection of [0, N); class(i) = perm(i) mod K, so classes\n"
        "            are balanced to +-1 and not readable from ids\n"
        "  edges     node i draws floor(D/2) or ceil(D/2) (mean D/2) endpoints; each is, with\n"
        "            probability H, a uniform node of i's class, else a uniform node of a uniform\n"
        "            other class; the graph is symmetrized, self loops and duplicates dropped\n"
        "  features  mu_c = S/sqrt(F) * N(0, I_F) per class, x_i = mu_class(i) + N(0, I_F), so\n"
        "            E|mu_c|^2 = S^2 and E|mu_c - mu_c'|^2 = 2 S^2. S = 1: one node's features\n"
        "            tell two classes apart ~76% of the time, ten classes ~37%; averaging over\n"
        "            neighbours (H = 0.8, D = 10) makes it ~80% (one hop) to ~99% (two hops)\n"
        "  splits    train: nodes with perm(i) < T*K (T per class); val: the next V and test:\n"
        "            the next U in perm order; disjoint, stored sorted\n"
        "hsbm (classes, features, degree and homophily as above):\n"
        "  tree      positions perm(i) are the leaves of a balanced tree of depth L, branching\n"
        "            B: B^L leaf blocks of contiguous positions (every class in every leaf); the\n"
        "            level-l block of a node is the subtree of B^l leaves above its leaf\n"
        "  edges     each endpoint climbs one level with probability R at a time (level l with\n"
        "            probability R^l (1-R), the root's R^L), picks its class as above, and is a\n"
        "            uniform node of that class in the level-l block outside the level-(l-1) one\n"
        "            (level 0: the node's own leaf). The tree's partition into B^j parts cuts\n"
        "            ~R^(L-j+1) of the edges, so the edge cut grows like parts^log_B(1/R)\n"
        "  splits    spread over the blocks (a keyed order inside each class), T per class\n"
        "  output    also /generate/leaf, the leaf block of every node\n",
};

er_err er_cmd_generate(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  generate_args a = {.model = ER_GEN_CSBM, .nodes = 10000, .avg_degree = 10, .classes = 10,
                     .features = 128, .homophily = 0.8, .feature_snr = 1.0,
                     .train_per_class = 20, .val = 500, .test = 1000, .seed = 1, .levels = 0,
                     .branching = DEF_BRANCHING, .escape = DEF_ESCAPE};
  _Static_assert(sizeof(er_gen_model) == sizeof(int), "enum options are stored as int");
  ER_CALL(er_opts_parse(comm, &generate_spec, &a, argc, argv, NULL, NULL));
  /* the same verdict on every rank: every rank parsed the same arguments */
  ER_CHECK(a.model == ER_GEN_HSBM ||
               (a.levels == 0 && a.branching == DEF_BRANCHING && a.escape == DEF_ESCAPE),
           ER_ERR_INPUT, "generate: --levels, --branching and --escape need --model hsbm");
  er_generate_opts o = {.nodes = a.nodes, .avg_degree = a.avg_degree, .classes = (int)a.classes,
                        .features = a.features, .homophily = a.homophily,
                        .feature_snr = a.feature_snr, .train_per_class = a.train_per_class,
                        .val = a.val, .test = a.test, .seed = (uint64_t)a.seed,
                        .out = a.out[0] ? a.out : NULL, .model = a.model,
                        .levels = (int)a.levels, .branching = (int)a.branching,
                        .escape = a.escape};
  ER_CALL(er_generate(comm, &o));
cleanup:
  return err;
}
