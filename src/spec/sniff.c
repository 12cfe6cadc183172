/* einflow spec stage — tells the spec files apart by their top-level
 * keys, so that `einflow validate` can take any of them. */
#include "spec/ytree.h"

char ef_spec_sniff(const char *path, ef_diags *diags) {
    /* The caller loads the file again once it knows the kind, and that
     * load reports everything wrong inside; only a failure to tell the
     * kind is ours to report. */
    ef_diags *mine = ef_diags_create();
    yt_doc *d = yt_load(path, mine ? mine : diags);
    char kind = 0;
    if (d) {
        const yt_node *root = d->root;
        if (yt_map_key(root, "levels"))
            kind = 'a';
        else if (yt_map_key(root, "arch"))
            kind = 's'; /* before dataflow: a sweep names its dataflows */
        else if (yt_map_key(root, "layers"))
            kind = 'n';
        else if (yt_map_key(root, "einsums"))
            kind = 'w';
        else if (yt_map_key(root, "mapping") || yt_map_key(root, "mappings"))
            kind = 'm';
        else if (yt_map_key(root, "dataflow"))
            kind = 'd';
        else
            yt_error(d, NULL, "", NULL,
                     "cannot tell what this file is: expected top-level key "
                     "levels (architecture), einsums (workload), layers "
                     "(network), mapping (mapping), dataflow (dataflow "
                     "template) or arch (sweep)");
    }
    if (mine && kind == 0)
        ef_diags_merge(diags, mine);
    yt_free(d);
    ef_diags_destroy(mine);
    return kind;
}
