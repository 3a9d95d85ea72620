/*
 * server/accounts/users.h — the users API (admin only):
 *   GET /api/v1/users → {"users": [{"username","role","created_at","updated_at"}]}
 *   POST /api/v1/users {"username","password","role"} → 201 the user
 *   PATCH /api/v1/users/{name} {"password"?, "role"?} → the user; a password change or a role
 *     change ends that user's sessions
 *   DELETE /api/v1/users/{name} → 204; ends its sessions. The last admin cannot be demoted or
 *     deleted (409), nor can an admin delete their own account.
 * User names: 1..64 of [a-z0-9._-], starting with a letter or digit.
 */
#ifndef LC_SERVER_USERS_H
#define LC_SERVER_USERS_H

struct lc_router;

int lc_users_routes(struct lc_router *r);

#endif
