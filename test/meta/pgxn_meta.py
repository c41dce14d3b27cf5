#!/usr/bin/env python3
"""Validate a META.json against the PGXN Meta Spec v1 (1.0.0).

Usage: pgxn_meta.py META.json   -- prints one line per violation, exits 1 if any

Written from the spec text (https://pgxn.org/spec/): the required keys and
their types, the license strings, the optional keys' structure, SemVer
versions, terms and tags.  Unknown keys must start with x_ or X_ (the spec's
custom keys).  No PyPI validator exists for the v1 spec, and the Rust crate
pgxn_meta would add a toolchain to the test dependencies for a few dozen rules.
"""
import json
import re
import sys

# SemVer as the spec requires (2.0.0 form: X.Y.Z, optional -prerelease)
SEMVER = re.compile(r'^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)'
                    r'(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$')
LICENSES = {
    'agpl_3', 'apache_1_1', 'apache_2_0', 'artistic_1', 'artistic_2', 'bsd',
    'freebsd', 'gfdl_1_2', 'gfdl_1_3', 'gpl_1', 'gpl_2', 'gpl_3', 'lgpl_2_1',
    'lgpl_3_0', 'mit', 'mozilla_1_0', 'mozilla_1_1', 'openssl', 'perl_5',
    'postgresql', 'qpl_1_0', 'ssleay', 'sun', 'zlib', 'open_source',
    'restricted', 'unrestricted', 'unknown',
}
REQUIRED = ('name', 'abstract', 'maintainer', 'license', 'provides',
            'meta-spec', 'version')
OPTIONAL = ('description', 'generated_by', 'tags', 'no_index', 'prereqs',
            'release_status', 'resources')
PHASES = ('configure', 'build', 'test', 'runtime', 'develop')
RELATIONS = ('requires', 'recommends', 'suggests', 'conflicts')

errors = []


def err(path, msg):
    errors.append('%s: %s' % (path, msg))


def custom(key):
    return key.startswith('x_') or key.startswith('X_')


def known_keys(path, obj, allowed):
    for k in obj:
        if k not in allowed and not custom(k):
            err(path, 'unknown key "%s" (custom keys start with x_)' % k)


def is_str(path, v, nonempty=True):
    if not isinstance(v, str):
        err(path, 'must be a string, is %s' % type(v).__name__)
        return False
    if nonempty and not v.strip():
        err(path, 'must not be empty')
        return False
    return True


def is_obj(path, v):
    if not isinstance(v, dict):
        err(path, 'must be an object, is %s' % type(v).__name__)
        return False
    return True


def term(path, v):
    # a term: at least two characters, no slash, backslash, control or space
    if is_str(path, v) and (len(v) < 2 or re.search(r'[/\\\s\x00-\x1f]', v)):
        err(path, '"%s" is not a term (2+ characters, no /, \\, space or control)' % v)


def semver(path, v):
    if is_str(path, v) and not SEMVER.match(v):
        err(path, '"%s" is not a semantic version (X.Y.Z)' % v)


def version_range(path, v):
    # prereq versions: 0 (any), a version, or operators with versions
    if v == 0 or v == '0':
        return
    if not is_str(path, v):
        return
    for part in v.split(','):
        m = re.match(r'^\s*(==|!=|>=|<=|>|<)?\s*(\S+)\s*$', part)
        if not m or not SEMVER.match(m.group(2)):
            err(path, '"%s" is not a version or version range' % v)
            return


def license_(path, v):
    if isinstance(v, str):
        if v not in LICENSES:
            err(path, '"%s" is not a license string of the spec' % v)
    elif isinstance(v, list):
        if not v:
            err(path, 'must not be an empty array')
        for i, x in enumerate(v):
            if not isinstance(x, str) or x not in LICENSES:
                err('%s[%d]' % (path, i), '%r is not a license string of the spec' % (x,))
    elif isinstance(v, dict):
        if not v:
            err(path, 'must not be an empty object')
        for k, url in v.items():
            is_str('%s.%s' % (path, k), url)
    else:
        err(path, 'must be a string, an array or an object')


def validate(meta):
    if not is_obj('META', meta):
        return
    for k in REQUIRED:
        if k not in meta:
            err(k, 'required key is missing')
    known_keys('META', meta, REQUIRED + OPTIONAL)

    if 'name' in meta:
        term('name', meta['name'])
    if 'version' in meta:
        semver('version', meta['version'])
    if 'abstract' in meta:
        is_str('abstract', meta['abstract'])
    if 'description' in meta:
        is_str('description', meta['description'])
    if 'generated_by' in meta:
        is_str('generated_by', meta['generated_by'])
    if 'maintainer' in meta:
        m = meta['maintainer']
        if isinstance(m, list):
            if not m:
                err('maintainer', 'must not be an empty array')
            for i, x in enumerate(m):
                is_str('maintainer[%d]' % i, x)
        else:
            is_str('maintainer', m)
    if 'license' in meta:
        license_('license', meta['license'])

    if 'provides' in meta and is_obj('provides', meta['provides']):
        if not meta['provides']:
            err('provides', 'must name at least one extension')
        for ext, p in meta['provides'].items():
            path = 'provides.%s' % ext
            term(path, ext)
            if not is_obj(path, p):
                continue
            known_keys(path, p, ('file', 'version', 'abstract', 'docfile'))
            for k in ('file', 'version'):
                if k not in p:
                    err('%s.%s' % (path, k), 'required key is missing')
            if 'file' in p:
                is_str(path + '.file', p['file'])
            if 'version' in p:
                semver(path + '.version', p['version'])
            for k in ('abstract', 'docfile'):
                if k in p:
                    is_str('%s.%s' % (path, k), p[k])

    if 'meta-spec' in meta and is_obj('meta-spec', meta['meta-spec']):
        ms = meta['meta-spec']
        known_keys('meta-spec', ms, ('version', 'url'))
        if ms.get('version') != '1.0.0':
            err('meta-spec.version', 'must be "1.0.0", is %r' % (ms.get('version'),))
        if 'url' in ms:
            is_str('meta-spec.url', ms['url'])

    if 'release_status' in meta and meta['release_status'] not in ('stable', 'testing', 'unstable'):
        err('release_status', 'must be stable, testing or unstable, is %r' % (meta['release_status'],))

    if 'tags' in meta:
        t = meta['tags']
        if not isinstance(t, list) or not t:
            err('tags', 'must be a non-empty array of strings')
        else:
            for i, x in enumerate(t):
                if is_str('tags[%d]' % i, x) and (len(x) > 255 or re.search(r'[/\\\x00-\x1f]', x)):
                    err('tags[%d]' % i, '%r: at most 255 characters, no /, \\ or control' % x)

    if 'no_index' in meta and is_obj('no_index', meta['no_index']):
        known_keys('no_index', meta['no_index'], ('file', 'directory'))
        for k, v in meta['no_index'].items():
            if custom(k):
                continue
            items = v if isinstance(v, list) else [v]
            for i, x in enumerate(items):
                is_str('no_index.%s[%d]' % (k, i), x)

    if 'prereqs' in meta and is_obj('prereqs', meta['prereqs']):
        known_keys('prereqs', meta['prereqs'], PHASES)
        for phase, rels in meta['prereqs'].items():
            if custom(phase) or not is_obj('prereqs.' + phase, rels):
                continue
            known_keys('prereqs.' + phase, rels, RELATIONS)
            for rel, reqs in rels.items():
                path = 'prereqs.%s.%s' % (phase, rel)
                if custom(rel) or not is_obj(path, reqs):
                    continue
                for name, ver in reqs.items():
                    term('%s key' % path, name)
                    version_range('%s.%s' % (path, name), ver)

    if 'resources' in meta and is_obj('resources', meta['resources']):
        r = meta['resources']
        known_keys('resources', r, ('homepage', 'bugtracker', 'repository'))
        if 'homepage' in r:
            is_str('resources.homepage', r['homepage'])
        for k, allowed in (('bugtracker', ('web', 'mailto')),
                           ('repository', ('url', 'web', 'type'))):
            if k in r and is_obj('resources.' + k, r[k]):
                known_keys('resources.' + k, r[k], allowed)
                if not r[k]:
                    err('resources.' + k, 'must not be empty')
                for kk, vv in r[k].items():
                    if not custom(kk):
                        is_str('resources.%s.%s' % (k, kk), vv)


def main():
    try:
        with open(sys.argv[1], encoding='utf-8') as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        print('%s: not readable JSON: %s' % (sys.argv[1], e))
        return 1
    validate(meta)
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
