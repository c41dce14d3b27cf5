/*
 * planner_support.h — ecl.check / ecl.allowed translated into SQL by the
 * planner (planner_support.c; the translation itself is src/core/translate.c).
 */
#ifndef ECL_PLANNER_SUPPORT_H
#define ECL_PLANNER_SUPPORT_H

#include "postgres.h"

extern bool ecl_translate_enabled;	/* ecl.translate, default on */

/* GUC assign hook: a setting the translation reads changed; replan. */
void		ecl_translation_setting_changed(void);

/*
 * A call that is not translated, with jsonb_build_object(...) of constant
 * keys, rewritten to pass the field values to the VM (fallback_calls.c);
 * NULL when it keeps its jsonb.
 */
struct FuncExpr;
struct Node *ecl_fallback_call(struct FuncExpr *fcall);

/*
 * EXECUTE on ecl.<function>(argtypes) for the current user, raised as the
 * executor raises it (42501): what a plan calling a stand-in for ecl.check
 * or ecl.allowed checks in its place.
 */
void		ecl_require_execute(const char *function, int nargs, const Oid *argtypes);

/*
 * Credential schemas one set of callers reads at most (caller_sets.c,
 * ecl.policy_callers: one bit each in its column held; a policy asking
 * about more stays per row).
 */
#define ECL_CALLER_SET_MAX_SCHEMAS 63

#endif							/* ECL_PLANNER_SUPPORT_H */
