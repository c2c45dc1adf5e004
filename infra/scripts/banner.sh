#!/usr/bin/env bash
# Prints where the local stack is, with ready tokens and example requests.
set -euo pipefail
cd "$(dirname "$0")/../.."
port=$1
moto=${2:-5005}
api=http://127.0.0.1:$port
admin=$(target/debug/desk-local token admin)
alice=$(target/debug/desk-local token alice)
bob=$(target/debug/desk-local token bob)
cat <<TXT

Service Desk is running.
  Console        $api/         sign in as admin, alice or bob (development issuer: $api/dev-oidc)
  API            $api          (same routes as API Gateway; OpenAPI: infra/openapi.yaml)
  DynamoDB Local http://127.0.0.1:8000   table: desk
  moto (S3/SQS/SES/EventBridge) http://127.0.0.1:5005
  logs           .dev/dev/*.log        stop with: make down

Tokens (12 h; new ones: make token USER=<name>):
  ADMIN=$admin
  ALICE=$alice
  BOB=$bob

Try:
  curl -s $api/me -H "Authorization: Bearer \$ALICE"
  curl -s "$api/tickets?status=open&sort=priority" -H "Authorization: Bearer \$ALICE"
  curl -s -X POST $api/tickets -H "Authorization: Bearer \$ADMIN" -H 'content-type: application/json' \\
       -d '{"name":"Printer on fire","priority":"urgent","customer":{"email":"carol@example.com"}}'
  curl -s -X PATCH $api/tickets/1001 -H "Authorization: Bearer \$ALICE" -H 'content-type: application/json' \\
       -d '{"version":1,"status":"processing","add_tags":["callback"]}'
  curl -s -X POST $api/tickets/1001/sessions -H "Authorization: Bearer \$ALICE" -H 'content-type: application/json' \\
       -d '{"email_customer":true}'                       # remote-support session, link mailed
  curl -s "$api/service-cases?status=new,pending" -H "Authorization: Bearer \$ALICE"   # the Service Queue
  curl -s $api/modules -H "Authorization: Bearer \$ADMIN"                               # SOS button id for:
  curl -s -X POST $api/public/modules/<module id>/cases                                  # no login
Mail in:  make mail FILE=tests/mail/gmail-new-alternative.eml   (or a folder); then GET /tickets
Sent mail (SES): curl -s http://127.0.0.1:$moto/moto-api/data.json
TXT
