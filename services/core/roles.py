"""Account roles and the groups of roles the rules speak of. Imported, never retyped."""
from __future__ import annotations

from services.core.texts import N_

ENTERPRISE = "enterprise"
HANDLER = "handler"
LEAD = "lead"
SUPERVISOR = "supervisor"
ADMIN = "admin"

ROLES = (ENTERPRISE, HANDLER, LEAD, SUPERVISOR, ADMIN)
#: Everyone who works tickets or oversees them.
STAFF = (HANDLER, LEAD, SUPERVISOR, ADMIN)
#: Bureau staff: they belong to one bureau and work its tickets.
BUREAU_STAFF = (HANDLER, LEAD)
#: Staff accounts that belong to a bureau (supervisors to the joint office): told of a ticket that
#: arrives at their bureau.
BUREAU_MEMBERS = (HANDLER, LEAD, SUPERVISOR)
#: May assign, transfer and ask for co-handling; see figures and follow up 差评.
LEADS = (LEAD, SUPERVISOR, ADMIN)
#: See every bureau's tickets and figures: the joint office and the admins.
COUNTY_WIDE = (SUPERVISOR, ADMIN)
ENTERPRISES = (ENTERPRISE,)
ADMINS = (ADMIN,)

LABELS = {
    ENTERPRISE: N_("企业"),
    HANDLER: N_("办件人员"),
    LEAD: N_("部门负责人"),
    SUPERVISOR: N_("联席办督办"),
    ADMIN: N_("管理员"),
}
