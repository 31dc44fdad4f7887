"""Reason codes: the stable names of every way a bundle can fail (spec §1–§6, §10).

``tests/vectors/README.md`` lists these for other implementations; a test keeps the two
in step. ``index`` is the opening's index for opening-level codes, null for bundle-level.
"""

from __future__ import annotations

from types import MappingProxyType

BUNDLE_LEVEL = MappingProxyType(
    {
        "escrow-invalid": "the escrow statement breaks a §4 value rule (purpose, ids, time, hex, sizes, shadows)",
        "escrow-signature-invalid": "a signature on the escrow by a trusted key does not verify (§6)",
        "escrow-signature-untrusted": "no signature on the escrow verifies under a key trusted for its host (§6)",
        "signature-invalid": "a signature on the bundle by a trusted key does not verify (§6)",
        "signature-untrusted": "no signature on the bundle verifies under a key trusted for the host (§6)",
        "escrow-id-mismatch": "the bundle's escrow_id is not the escrow's (§5)",
        "root-mismatch": "the bundle's root is not the escrow's root (§5)",
        "tree-size-mismatch": "the bundle's tree_size is not the escrow's (§5)",
        "phase-invalid": "the bundle's phase is not an id (§0)",
        "cells-sha256-mismatch": "SHA-256 of cells.txt is not the escrow's grid.cells_sha256 (§1)",
        "cell-count-mismatch": "cells.txt does not have grid.cell_count lines (§1)",
        "cells-invalid": "cells.txt holds a bad id, an H3 cell at another resolution, or is not strictly ascending (§1)",
        "leaves-invalid": "leaves.bin is not 32·N bytes (§3)",
        "leaves-root-mismatch": "the Merkle root of leaves.bin is not the escrow's root (§3)",
        "openings-empty": "the bundle opens no cell (§5)",
        "proof-malformed": "a proof hash is not 64 lowercase hex digits, or the proof's preconditions fail (§5)",
        "proof-hash-count": "the multiproof has too few hashes, or hashes left unused (§5)",
        "proof-root-mismatch": "the root recomputed from openings and multiproof is not the escrow's root (§5)",
        "proof-unchecked": "the multiproof could not be checked because an opening's leaf could not be computed (§5)",
        "totals-invalid": "a totals entry breaks §2's quantity or unit rules, or names a category outside the vocabulary (§4)",
        "totals-unsealed": "the bundle opens totals but the escrow has no sealed_totals (§4)",
        "totals-mismatch": "the opened totals do not hash to the escrow's sealed_totals (§4)",
        "totals-disagree": "public and sealed totals name a category with different values (§4)",
        "totals-sum-mismatch": "every cell is open and a category's exact sum differs from its total (§4)",
        "incomplete": "no cells.txt was supplied: the bundle cannot be called valid (§1)",
        "coverage-missing": "cells of the agreed territory, computed by the reader, are missing from cells.txt (§1)",
        "escrow-conflict": "the reader's workspace holds another statement under the same escrow id",
        "phase-conflict": "the reader verified another statement under this phase before: the host showed two versions",
    }
)

OPENING_LEVEL = MappingProxyType(
    {
        "openings-order": "openings are not strictly ascending by index: a repeat or an out-of-order opening (§5)",
        "index-out-of-range": "the index is outside [0, tree_size) (§5)",
        "cell-mismatch": "the opening's cell is not line `index` of cells.txt (§5)",
        "content-cell-mismatch": "content.cell is not the opened cell (§2)",
        "salt-invalid": "the salt is not 64 lowercase hex digits (§0)",
        "leaf-mismatch": "the recomputed leaf differs from leaves.bin at this index (§3)",
        "site-id-invalid": "a site id is not an id (§0)",
        "site-order": "sites are not strictly ascending by id (§2)",
        "site-id-duplicate": "a site id is declared in two cells (§2)",
        "kind-unknown": "a site kind is not in the vocabulary (§10)",
        "field-empty": "an optional name or type is an empty string (§2)",
        "coordinates-missing": "lat/lon missing on an h3 grid, or only one of them given (§2)",
        "coordinates-out-of-range": "lat outside [-90, 90] or lon outside [-180, 180] (§2)",
        "site-outside-cell": "the site's (or suspect's) point lies in another H3 cell than the opened cell (§2, §9)",
        "item-order": "items are not strictly ascending by (category, type) (§2)",
        "category-unknown": "an item category is not in the vocabulary (§10)",
        "unit-mismatch": "an item's unit is not the vocabulary's unit for its category (§10)",
        "quantity-invalid": "a quantity is negative, or not whole for a count (§2)",
        "serials-mismatch": "serials on a non-count item, or a serial count that differs from the quantity (§2)",
        "serial-invalid": "a serial is not an id (§2)",
        "serials-order": "serials are not strictly ascending (§2)",
        "serial-duplicate": "a serial is declared twice in the declaration (§2)",
        "suspect-id-invalid": "an intelligence suspect's id is not an id (§9)",
        "suspect-order": "suspects are not strictly ascending by id (§9)",
        "suspect-id-duplicate": "a suspect id appears in two cells of an intelligence escrow (§9)",
        "radius-invalid": "a suspect's radius_m is not greater than 0 (§9)",
        "confidence-invalid": "a suspect's confidence is outside (0, 1] (§9)",
    }
)

WARNINGS = MappingProxyType(
    {"vocabulary-unknown": "the escrow names a vocabulary this reader does not know: its checks were skipped (§10)"}
)

NOTES = MappingProxyType(
    {
        "note-signature-invalid": "a signed note carries a signature by a known key that does not verify (§7)",
        "note-signature-untrusted": "no signature on a signed note verifies under a given key (§7)",
        "cosignature-invalid": "a witness cosignature line does not verify for the checkpoint (§7)",
    }
)

ALL = MappingProxyType({**BUNDLE_LEVEL, **OPENING_LEVEL, **WARNINGS, **NOTES})
