// A KYC gate for payments: small amounts need a registered caller, larger
// ones a valid KYC credential, the largest a level-2 KYC and high integrity.
const SMALL = 100
const LARGE = 10000

policy kyc_gate(amount: number, currency?: string) {
    require amount > 0, "amount must be positive"
    require resolve_did(caller), "unknown or revoked caller"
    if amount <= SMALL {
        return true
    }
    require has_credential(caller, "kyc"), "KYC credential required above " + SMALL
    if amount > LARGE {
        require has_credential(caller, "kyc-level-2"), "KYC level 2 required above " + LARGE
        require trust.i >= 0.7, "integrity too low for large payments"
        log("large payment checked")
    }
    return true
}
