// Who may read or change a document.  The call site passes the document's
// row: jsonb_build_object('owner', owner, 'classification', classification,
// 'level', level, 'action', 'read').  Declared inputs make a typo in a field
// name a compile error instead of a silent pass.
const CLEARANCE_FOR_SECRET = 3

policy document_access(owner: did, classification: string, level?: number,
    action: string) {
    // the owner may do anything with their own document
    if owner == caller {
        return true
    }
    require action == "read", "only the owner may change a document"
    require resolve_did(caller), "unknown or revoked caller"
    if classification == "public" {
        return true
    }
    // internal documents: anyone the realm trusts a little
    require trust.r >= 0.5, "reliability too low for internal documents"
    if classification == "secret" {
        require level != null && level >= CLEARANCE_FOR_SECRET, "the document's level is too low to share"
        require has_credential(caller, "clearance-secret"), "secret clearance required"
    }
    return true
}
