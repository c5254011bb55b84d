#!/usr/bin/env bash
# Keeps this GitHub Actions job's Azure CLI session signed in for as long as the job runs, by signing in again every
# AZ_SIGN_IN_INTERVAL seconds (default 120) with a fresh OIDC token of the job. Started in the background after
# azure/login; the runner ends it with the job.
#
# Why: the job's OIDC token lives 5 minutes (exp - iat = 300 s, actions/toolkit#2048), and the Azure CLI keeps the
# token it was signed in with and cannot get another (Azure/azure-cli#28708, Azure/login#180): once it has expired,
# every new access token the CLI must mint fails with AADSTS700024. The Pulumi state backend (azblob://) and the
# Key Vault secrets provider get theirs through the CLI (gocloud.dev's DefaultAzureCredential ends in
# AzureCLICredential), and creating an APIM service keeps `pulumi up` running for 30-60+ minutes, past the 60-90
# minute life of the first storage token. The providers need none of this: with ARM_USE_OIDC they request a new OIDC
# token from ACTIONS_ID_TOKEN_REQUEST_URL themselves each time. Azure DevOps' AzureCLI@2 does the same as this script
# with keepAzSessionActive: true (microsoft/azure-pipelines-tasks, Tasks/AzureCLIV2: every 8 minutes).
set -uo pipefail

: "${ACTIONS_ID_TOKEN_REQUEST_URL:?the job needs permissions: id-token: write}"
: "${ACTIONS_ID_TOKEN_REQUEST_TOKEN:?the job needs permissions: id-token: write}"
: "${ARM_CLIENT_ID:?}" "${ARM_TENANT_ID:?}"

sign_in() {
  local response token
  response=$(curl --silent --show-error --fail --max-time 30 \
    --header "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
    "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=api://AzureADTokenExchange") || return 1
  token=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).value ?? "")' <<<"$response") || return 1
  [ -n "$token" ] || return 1
  az login --service-principal --username "$ARM_CLIENT_ID" --tenant "$ARM_TENANT_ID" \
    --federated-token "$token" --allow-no-subscriptions --output none || return 1
  if [ -n "${ARM_SUBSCRIPTION_ID:-}" ]; then az account set --subscription "$ARM_SUBSCRIPTION_ID" || return 1; fi
}

while sleep "${AZ_SIGN_IN_INTERVAL:-120}"; do
  if sign_in; then
    echo "$(date -u +%FT%TZ) signed in again"
  else
    echo "::warning::$(date -u +%FT%TZ) could not sign the Azure CLI in again; the next attempt is in ${AZ_SIGN_IN_INTERVAL:-120} s"
  fi
done
