#!/bin/sh
# Sets each named resource group of this project to process its jobs oldest first (GitLab's default,
# "unordered", may start a newer pipeline's deploy before an older one's, and then the older digest wins). The
# process mode is not part of .gitlab-ci.yml: it is set through GitLab's API
# (PUT /projects/:id/resource_groups/:key), which needs a token with the api scope and the Maintainer role:
# RESOURCE_GROUP_TOKEN, a masked, protected CI/CD variable (a project access token).
#
#   deploy/gitlab/resource-groups.sh dev staging production
#
# A group that does not exist yet (its first job creates it) is reported and left for the next run; a refused
# token, a missing one or a group left in another mode fails the job.
set -eu

api="${CI_API_V4_URL:?CI_API_V4_URL is not set (run inside a GitLab job)}"
project="${CI_PROJECT_ID:?CI_PROJECT_ID is not set (run inside a GitLab job)}"
if [ -z "${RESOURCE_GROUP_TOKEN:-}" ]; then
  echo "resource-groups: RESOURCE_GROUP_TOKEN is not set: add a project access token (scope api, role Maintainer) as a masked, protected CI/CD variable" >&2
  exit 1
fi
[ "$#" -gt 0 ] || { echo "usage: resource-groups.sh GROUP..." >&2; exit 2; }

body="$(mktemp)"
trap 'rm -f "$body"' EXIT
failed=0
for group in "$@"; do
  status="$(curl -sS -o "$body" -w '%{http_code}' --request PUT \
    --header "PRIVATE-TOKEN: $RESOURCE_GROUP_TOKEN" \
    --data "process_mode=oldest_first" \
    "$api/projects/$project/resource_groups/$group")" || status=000
  case "$status" in
    200)
      if grep -q '"process_mode":"oldest_first"' "$body"; then
        echo "resource-groups: $group processes oldest first"
      else
        echo "resource-groups: $group: GitLab answered without process_mode oldest_first: $(head -c 300 "$body")" >&2
        failed=1
      fi
      ;;
    404)
      echo "resource-groups: $group does not exist yet (its first job creates it); the next pipeline sets it"
      ;;
    401 | 403)
      echo "resource-groups: $group: GitLab refused RESOURCE_GROUP_TOKEN ($status): it needs the api scope and the Maintainer role" >&2
      failed=1
      ;;
    *)
      echo "resource-groups: $group: GitLab answered $status: $(head -c 300 "$body")" >&2
      failed=1
      ;;
  esac
done
exit "$failed"
