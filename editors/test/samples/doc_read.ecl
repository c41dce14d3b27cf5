// Who may read a document: its owner, or a trusted reader of the realm.
policy "doc read" {
    if caller == owner {
        return true
    }
    let t = load_trust("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    let score = trust_norm(caller.trust) * 0.75 + t.omega * 0.25
    require score > 0.6 && !revoked, "not trusted enough"
    for tag in tags {
        require tag != "secret" || caller.credential("clearance"), "clearance needed"
    }
    let label = level >= 1e3 ? "high" : "low\t\"quoted\" \u00e9"
    return [label, score, null, false][0] != "" && keys({a: 1}) != []
}
