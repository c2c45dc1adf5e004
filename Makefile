# Service Desk — local stack and tests. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

API_PORT        ?= 3000
DEV_DYNAMO_PORT ?= 8000
DEV_MOTO_PORT   ?= 5005
TABLE_NAME      ?= desk
FUZZ_SECONDS    ?= 60

# The SDK talks to the emulators with dummy credentials; nothing reaches AWS.
LOCAL_AWS := AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 \
	AWS_ENDPOINT_URL=http://127.0.0.1:$(DEV_MOTO_PORT) \
	AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(DEV_DYNAMO_PORT) \
	TABLE_NAME=$(TABLE_NAME)
DESK_LOCAL := target/debug/desk-local

.PHONY: help tools console package dev down token mail replay rotate-key test lint fuzz bench-list bench-expire bench-big-mail bench-write-cost bench-console sizes

help:
	@echo "make dev                 start the local stack, serve the API and the web console on http://127.0.0.1:$(API_PORT) with demo data"
	@echo "make console             build the web console (console/ -> console/dist; npm ci + npm run build)"
	@echo "make package             build the console, then sam build for arm64; checks every artifact is an arm64 ELF bootstrap"
	@echo "make token USER=<name>   print a bearer token for a local user (last line)"
	@echo "make mail FILE=<eml|dir> deliver mail to the running stack exactly as SES would (raw to S3 + S3 event to SQS)"
	@echo "make replay              move dead-lettered inbound mail (and outbox mail) back to their queues"
	@echo "make rotate-key          new current reply-token key in the local stack; SECRET=<arn> for a deployed stack (your AWS credentials), GRACE_DAYS=<n> to set the grace period"
	@echo "make down                stop what make dev started"
	@echo "make test                run every test (unit, DynamoDB Local, HTTP, OpenAPI fuzzing, template lint, 30 s cargo-fuzz)"
	@echo "make fuzz                fuzz parse -> threading -> rules for FUZZ_SECONDS (default 60; cargo-fuzz, stable Rust)"
	@echo "make bench-list          list-page latency at 1,000 vs 100,000 tickets (DynamoDB Local)"
	@echo "make bench-expire        one expiry run over 100,000 live cases of which 100 are due"
	@echo "make bench-big-mail      a 25 MB email through the ingest handler: time and peak memory vs template.yaml"
	@echo "make bench-write-cost    WCU per email ticket, reply and edit (request path and indexer), index lag, cost per 1,000"
	@echo "make bench-console       the console: gzipped JS of the first view, p50 of 20 loads to the first rows painted"
	@echo "make sizes               per function vs a bare lambda_runtime function: init (median of 15), ratio, warm invocation, x86_64/arm64 sizes"

tools:
	@infra/scripts/tools.sh

.dev/jwt-secret:
	@mkdir -p .dev && umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > $@

console:
	@infra/scripts/console.sh

# The console Lambda embeds console/dist at compile time; DESK_CONSOLE_REQUIRED=1
# makes its build fail rather than embed the placeholder page.
package: console
	@test -f console/dist/index.html || { echo "package: no console/dist/index.html: the console was not built" >&2; exit 1; }
	@infra/scripts/package.sh

dev: tools .dev/jwt-secret console
	@infra/scripts/stack.sh up dev $(DEV_DYNAMO_PORT) $(DEV_MOTO_PORT)
	@cargo build --quiet -p desk-local -p api
	@$(LOCAL_AWS) $(DESK_LOCAL) create-table
	@$(LOCAL_AWS) $(DESK_LOCAL) seed
	@infra/scripts/serve.sh dev $(API_PORT) $(LOCAL_AWS)
	@infra/scripts/banner.sh $(API_PORT) $(DEV_MOTO_PORT)

down:
	@infra/scripts/stack.sh down dev
	@echo "local stack stopped"

token: .dev/jwt-secret
	@cargo build --quiet -p desk-local
	@$(DESK_LOCAL) token $(USER)

mail:
	@test -n "$(FILE)" || { echo "usage: make mail FILE=<path.eml or folder>" >&2; exit 2; }
	@cargo build --quiet -p desk-local
	@$(LOCAL_AWS) $(DESK_LOCAL) mail $(FILE)

replay:
	@cargo build --quiet -p desk-local
	@$(LOCAL_AWS) $(DESK_LOCAL) replay

# SECRET=<ReplyTokenSecretArn output>: rotate a deployed stack's key with the
# caller's AWS credentials; without it, the local stack's (moto).
rotate-key:
	@cargo build --quiet -p desk-local
ifdef SECRET
	@$(DESK_LOCAL) rotate-reply-key --secret "$(SECRET)" $(if $(GRACE_DAYS),--grace-days $(GRACE_DAYS))
else
	@$(LOCAL_AWS) $(DESK_LOCAL) rotate-reply-key $(if $(GRACE_DAYS),--grace-days $(GRACE_DAYS))
endif

test: tools
	@infra/scripts/test.sh

lint: tools
	.venv/bin/cfn-lint template.yaml

fuzz:
	@infra/scripts/fuzz-mail.sh $(FUZZ_SECONDS)

bench-list: tools
	@infra/scripts/bench.sh bench-list

bench-expire: tools
	@infra/scripts/bench.sh bench-expire

bench-big-mail: tools
	@infra/scripts/bench.sh bench-big-mail

bench-write-cost: tools
	@infra/scripts/bench.sh bench-write-cost

bench-console: tools
	@infra/scripts/bench-console.sh

sizes: tools
	@infra/scripts/sizes.sh
