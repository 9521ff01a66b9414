#!/usr/bin/env bash
# One-time, by an Owner or User Access Administrator: the roles of the GitHub deploy identity.
#
#   infra/scripts/grant-deploy-identity.sh <deploy identity object id> <app resource group> <ML resource group>
#
# Contributor on both resource groups (the resources), and Role Based Access Control Administrator
# constrained by an ABAC condition to exactly the roles main.bicep and its modules assign there:
# the deploy identity can create (and delete) assignments of those roles and of no other, so it
# can never make itself or anyone else Owner. The condition is the "Constrain roles" example of
# https://learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-examples
# (Request/Resource attribute Microsoft.Authorization/roleAssignments:RoleDefinitionId).
# tests/unit/test_infra.py checks that the lists below are the roles the Bicep assigns.
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 <deploy identity object id> <app resource group> <ML resource group>" >&2
  exit 2
fi
assignee=$1 app_rg=$2 ml_rg=$3

RBAC_ADMINISTRATOR=f58310d9-a9f6-439a-9e8d-f62e7b41a168 # Role Based Access Control Administrator
CONTRIBUTOR=b24988ac-6180-42a0-ab88-20f7382dd24c

# main.bicep (the app's resource group)
APP_RG_ROLES=(
  b7e6dc6d-f1e8-4753-8033-0f276bb0955b # Storage Blob Data Owner (app identity: host storage, data, state)
  974c5e8b-45b9-4653-ba55-5f855dd0fb88 # Storage Queue Data Contributor (app identity: step queue, poison queues)
  0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3 # Storage Table Data Contributor (app identity: host diagnostics)
  4633458b-17de-408a-b874-0445c86b69e6 # Key Vault Secrets User (app identity)
  3913510d-42f4-4e42-8a64-420c390055eb # Monitoring Metrics Publisher (app identity: telemetry)
  ba92f5b4-2d11-453d-a403-e96b0029c9fe # Storage Blob Data Contributor (uploaders; system topics: dead letters)
  2a2b9908-6ea1-4ae2-8e65-a410df84e7d1 # Storage Blob Data Reader (Azure ML identities: the data container)
)
# modules/ml-workspace.bicep, modules/workspace-storage-reader.bicep (the workspace's resource group)
ML_RG_ROLES=(
  f6c7c914-8db3-469d-8ca1-694a8f32e121 # AzureML Data Scientist (app identity: the workspace)
  2a2b9908-6ea1-4ae2-8e65-a410df84e7d1 # Storage Blob Data Reader (app identity: the workspace storage)
)

condition() { # the roles, comma-separated
  local roles=$1
  printf '%s' "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {$roles})) AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {$roles}))"
}

join() { local IFS=,; echo "$*" | sed 's/,/, /g'; }

grant() { # resource group, roles...
  local rg=$1; shift
  local scope
  scope=$(az group show -n "$rg" --query id -o tsv)
  az role assignment create --assignee-object-id "$assignee" --assignee-principal-type ServicePrincipal \
    --role "$CONTRIBUTOR" --scope "$scope" -o none
  az role assignment create --assignee-object-id "$assignee" --assignee-principal-type ServicePrincipal \
    --role "$RBAC_ADMINISTRATOR" --scope "$scope" \
    --condition "$(condition "$(join "$@")")" --condition-version "2.0" \
    --description "deploy identity: only the roles infra/ assigns" -o none
  echo "granted on $rg: Contributor, Role Based Access Control Administrator (constrained to $# roles)"
}

grant "$app_rg" "${APP_RG_ROLES[@]}"
grant "$ml_rg" "${ML_RG_ROLES[@]}"
