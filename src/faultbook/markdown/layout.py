"""The layout of a ledger that never imported a document: the seed's sections, made generic.

``faultbook export`` needs prose around the blocks even for a project that
only ever recorded failures from the CLI.  This is the seed document's
structure and advice with the project's name in the title and nothing
specific to the project that wrote the seed.
"""

from __future__ import annotations

from faultbook.domain.models import DocumentPart, FailuresSlot, PotentialFailuresSlot, Section

_PREAMBLE = """\
## Purpose

This document tracks any failures or issues that occur during the deployment process, along with their root causes and resolutions. It serves as a reference for troubleshooting and improving future deployments.

## Failure Tracking Format

Each deployment failure will be documented in this format:

### Failure #[Number]: [Brief Description]
- **Date**: [Date when failure occurred]
- **Time**: [Time when failure occurred]
- **Component**: [Which component failed (Backend/Frontend/Assets/DNS)]
- **Deployment Step**: [Specific deployment step that failed]
- **Error Message**: [Exact error message received]
- **Root Cause**: [Analysis of what caused the failure]
- **Resolution**: [Steps taken to resolve the failure]
- **Status**: [Open/Resolved/Workaround]
- **Lessons Learned**: [What can be done differently in the future]

## Current Failures

"""

_BETWEEN = """\
## Potential Future Failures

"""

_AFTER = """\
## Recovery Procedures

### Immediate Rollback
If deployment causes critical issues affecting users:
1. Identify the failing component
2. Document the failure symptoms and impact
3. Preserve current state for debugging (take screenshots, save logs)
4. Execute rollback procedure:
   - For Workers: `wrangler versions view` to see versions, then `wrangler versions deploy` to rollback
   - For Pages: Use Cloudflare dashboard to rollback to previous deployment
5. Verify system functionality after rollback
6. Schedule redeployment after issue resolution

### Contact Support
For issues that cannot be resolved internally:
1. Gather all error messages and logs
2. Prepare detailed description of the issue including:
   - Steps to reproduce
   - Expected vs. actual behavior
   - Time of occurrence
   - Affected components
3. Contact Cloudflare support with:
   - Account ID
   - Zone ID
   - Worker name
   - Error messages
   - Timestamps
   - Recent changes made

## Prevention Best Practices

1. **Always test locally** before deploying to production using `wrangler dev`
2. **Backup current deployment** before making changes
3. **Deploy during off-peak hours** to minimize user impact
4. **Monitor logs closely** after deployment
5. **Have a rollback plan** ready before deployment begins
6. **Document all changes** for future reference and troubleshooting
7. **Verify all environment variables** before deployment
8. **Test all API endpoints** after deployment
9. **Check resource availability** (buckets, databases, namespaces) before deployment
10. **Validate configuration files** (wrangler.toml) before deployment
"""


def default_layout(project_name: str) -> tuple[DocumentPart, ...]:
    """Title, Purpose, Failure Tracking Format, the two slots, Recovery, Prevention."""
    name = " ".join(project_name.split()) or "Project"
    return (
        Section(f"# {name} Deployment Failure Tracking\n\n" + _PREAMBLE),
        FailuresSlot(),
        Section(_BETWEEN),
        PotentialFailuresSlot(),
        Section(_AFTER),
    )
