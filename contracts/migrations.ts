// Ledger schema (PostgreSQL; also runs on embedded pglite). Applied in order, once each, recorded in
// schema_migrations. Amounts are NUMERIC(38,0) minor units; code reads them as bigint.
import type { Pool } from 'pg';

export const MIGRATIONS: string[] = [
  `CREATE TABLE users (
     id bigserial PRIMARY KEY,
     email text NOT NULL UNIQUE,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE api_keys (
     id bigserial PRIMARY KEY,
     user_id bigint NOT NULL REFERENCES users(id),
     api_key text NOT NULL UNIQUE,
     secret_ciphertext text NOT NULL,
     permissions text NOT NULL,
     label text NOT NULL DEFAULT '',
     created_at timestamptz NOT NULL DEFAULT now(),
     revoked_at timestamptz
   );
   -- owner: 'user:<id>' or a system account ('system:fee', 'system:external' = the outside world).
   CREATE TABLE accounts (
     id bigserial PRIMARY KEY,
     owner text NOT NULL,
     asset text NOT NULL,
     available numeric(38,0) NOT NULL DEFAULT 0,
     locked numeric(38,0) NOT NULL DEFAULT 0,
     UNIQUE (owner, asset),
     CHECK (locked >= 0),
     CHECK (available >= 0 OR owner = 'system:external')
   );
   CREATE TABLE ledger_transactions (
     id bigserial PRIMARY KEY,
     kind text NOT NULL,
     reference text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
     UNIQUE (kind, reference)
   );
   CREATE TABLE ledger_entries (
     id bigserial PRIMARY KEY,
     tx_id bigint NOT NULL REFERENCES ledger_transactions(id),
     account_id bigint NOT NULL REFERENCES accounts(id),
     asset text NOT NULL,
     bucket text NOT NULL CHECK (bucket IN ('available', 'locked')),
     amount numeric(38,0) NOT NULL
   );
   CREATE INDEX ledger_entries_tx ON ledger_entries (tx_id);
   CREATE TABLE order_locks (
     order_id bigint PRIMARY KEY,
     user_id bigint NOT NULL,
     asset text NOT NULL,
     locked_total numeric(38,0) NOT NULL,
     remaining numeric(38,0) NOT NULL CHECK (remaining >= 0),
     status text NOT NULL DEFAULT 'open',
     created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
     closed_at timestamptz
   );
   CREATE TABLE settled_trades (
     market text NOT NULL,
     trade_id bigint NOT NULL,
     maker_order_id bigint NOT NULL,
     taker_order_id bigint NOT NULL,
     settled_at timestamptz NOT NULL DEFAULT clock_timestamp(),
     PRIMARY KEY (market, trade_id)
   );
   CREATE TABLE audit_log (
     id bigserial PRIMARY KEY,
     at timestamptz NOT NULL DEFAULT now(),
     actor text NOT NULL,
     action text NOT NULL,
     detail text NOT NULL DEFAULT ''
   );`,
  // 2: open orders per user and market counted in the lock transaction (exact MAX_NUM_ORDERS).
  `ALTER TABLE order_locks ADD COLUMN market text NOT NULL DEFAULT '';
   CREATE INDEX order_locks_open_by_user_market ON order_locks (user_id, market) WHERE status = 'open';`,
  // 3: order pipeline v2 (docs/architecture.md#the-order-pipeline). The accepted order, its engine command
  // (transactional outbox) and the signature's replay marker commit with the funds lock in one transaction;
  // the order row is the live order, kept in step with the engine by the data processor.
  `CREATE SEQUENCE order_ids;
   SELECT setval('order_ids', greatest(coalesce((SELECT max(order_id) FROM order_locks), 0), 1),
                 (SELECT count(*) > 0 FROM order_locks));
   CREATE TABLE orders (
     order_id bigint PRIMARY KEY,
     user_id bigint NOT NULL,
     market text NOT NULL,
     client_order_id text NOT NULL,
     side text NOT NULL,
     type text NOT NULL,
     time_in_force text NOT NULL,
     price_ticks bigint NOT NULL,
     qty_lots bigint NOT NULL,
     quote_qty bigint NOT NULL,
     stop_ticks bigint NOT NULL,
     iceberg_lots bigint NOT NULL,
     stp_mode text NOT NULL,
     status text NOT NULL DEFAULT 'NEW',
     executed_lots bigint NOT NULL DEFAULT 0,
     cum_quote bigint NOT NULL DEFAULT 0,
     created_ms bigint NOT NULL,
     update_ms bigint NOT NULL,
     working_ms bigint NOT NULL DEFAULT -1,
     is_working boolean NOT NULL DEFAULT false,
     lock_asset text NOT NULL,
     lock_amount numeric(38,0) NOT NULL,
     last_seq bigint NOT NULL DEFAULT 0
   );
   -- Binance: a client order id is unique among the user's open orders in a market.
   CREATE UNIQUE INDEX orders_open_client_id ON orders (user_id, market, client_order_id)
     WHERE status IN ('NEW', 'PARTIALLY_FILLED');
   CREATE INDEX orders_open_by_user ON orders (user_id, market) WHERE status IN ('NEW', 'PARTIALLY_FILLED');
   -- Engine commands not yet applied: the relay sends them until the data processor sees them applied.
   CREATE TABLE outbox (
     id bigserial PRIMARY KEY,
     cmd_id text NOT NULL UNIQUE,
     market text NOT NULL,
     group_id text NOT NULL,
     body text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
     sends int NOT NULL DEFAULT 0,
     last_sent_at timestamptz,
     applied_at timestamptz
   );
   CREATE INDEX outbox_unapplied ON outbox (id) WHERE applied_at IS NULL;
   -- Signatures already used by order requests (replay protection inside the order's own transaction).
   CREATE TABLE request_signatures (
     signature text PRIMARY KEY,
     expires_ms bigint NOT NULL
   );
   -- The trade itself, so an order's fills can be answered from the ledger (FULL responses).
   ALTER TABLE settled_trades
     ADD COLUMN price_ticks bigint NOT NULL DEFAULT 0,
     ADD COLUMN qty_lots bigint NOT NULL DEFAULT 0,
     ADD COLUMN taker_side text NOT NULL DEFAULT '',
     ADD COLUMN trade_ms bigint NOT NULL DEFAULT 0;
   CREATE INDEX settled_trades_taker ON settled_trades (taker_order_id);
   -- Event records the data processor could not settle: kept with the error, alarmed on, replayable.
   CREATE TABLE quarantined_records (
     id bigserial PRIMARY KEY,
     market text NOT NULL,
     sequence_number text NOT NULL UNIQUE,
     record text NOT NULL,
     error text NOT NULL,
     quarantined_at timestamptz NOT NULL DEFAULT clock_timestamp(),
     replayed_at timestamptz
   );

   -- One round trip for the whole accept path: replay marker, open-order cap, funds lock with its ledger
   -- entries, the order, its outbox row. Checks come before writes, so a refusal changes nothing but the
   -- replay marker (a refused signed request is not replayable either).
   CREATE FUNCTION accept_order(
     p_signature text, p_signature_expires_ms bigint, p_user_id bigint, p_market text, p_max_open int,
     p_asset text, p_amount numeric, p_order jsonb, p_command jsonb, p_group_id text
   ) RETURNS TABLE (outcome text, new_order_id bigint, command text)
   LANGUAGE plpgsql AS $$
   DECLARE
     v_account bigint;
     v_order_id bigint;
     v_tx bigint;
     v_body text;
   BEGIN
     IF p_signature IS NOT NULL THEN
       INSERT INTO request_signatures VALUES (p_signature, p_signature_expires_ms) ON CONFLICT DO NOTHING;
       IF NOT FOUND THEN RETURN QUERY SELECT 'replayed_signature', NULL::bigint, NULL::text; RETURN; END IF;
     END IF;
     PERFORM 1 FROM users WHERE id = p_user_id FOR UPDATE;
     IF EXISTS (SELECT 1 FROM orders WHERE user_id = p_user_id AND market = p_market
                  AND client_order_id = p_order->>'client_order_id' AND status IN ('NEW', 'PARTIALLY_FILLED')) THEN
       RETURN QUERY SELECT 'duplicate_client_order_id', NULL::bigint, NULL::text; RETURN;
     END IF;
     IF (SELECT count(*) FROM order_locks WHERE user_id = p_user_id AND market = p_market AND status = 'open')
          >= p_max_open THEN
       RETURN QUERY SELECT 'too_many_open_orders', NULL::bigint, NULL::text; RETURN;
     END IF;
     UPDATE accounts SET available = available - p_amount, locked = locked + p_amount
      WHERE owner = 'user:' || p_user_id AND asset = p_asset AND available >= p_amount
      RETURNING id INTO v_account;
     IF v_account IS NULL THEN
       RETURN QUERY SELECT 'insufficient_balance', NULL::bigint, NULL::text; RETURN;
     END IF;
     v_order_id := nextval('order_ids');
     INSERT INTO ledger_transactions (kind, reference) VALUES ('lock', 'order:' || v_order_id) RETURNING id INTO v_tx;
     INSERT INTO ledger_entries (tx_id, account_id, asset, bucket, amount)
       VALUES (v_tx, v_account, p_asset, 'available', -p_amount), (v_tx, v_account, p_asset, 'locked', p_amount);
     INSERT INTO order_locks (order_id, user_id, market, asset, locked_total, remaining)
       VALUES (v_order_id, p_user_id, p_market, p_asset, p_amount, p_amount);
     INSERT INTO orders
       SELECT * FROM jsonb_populate_record(NULL::orders, p_order || jsonb_build_object('order_id', v_order_id));
     v_body := jsonb_build_object('v', 1, 'cmdId', 'p-' || v_order_id,
                                  'command', p_command || jsonb_build_object('orderId', v_order_id))::text;
     INSERT INTO outbox (cmd_id, market, group_id, body) VALUES ('p-' || v_order_id, p_market, p_group_id, v_body);
     RETURN QUERY SELECT 'accepted', v_order_id, v_body;
   END $$;`,
  // 4: settlement in the database, one round trip per Kinesis batch: each engine answer as an operation, in
  // stream order. Postings are computed by the caller (lambdas/shared/ledger/postings.ts); the functions
  // apply them exactly once (unique (kind, reference)), keep the locks in step and advance the orders.
  `CREATE FUNCTION ledger_post(p_kind text, p_reference text, p_postings jsonb) RETURNS boolean
   LANGUAGE plpgsql AS $$
   DECLARE v_tx bigint;
   BEGIN
     INSERT INTO ledger_transactions (kind, reference) VALUES (p_kind, p_reference)
       ON CONFLICT DO NOTHING RETURNING id INTO v_tx;
     IF v_tx IS NULL THEN RETURN false; END IF;
     INSERT INTO accounts (owner, asset)
       SELECT DISTINCT p->>'owner', p->>'asset' FROM jsonb_array_elements(p_postings) p
       ON CONFLICT (owner, asset) DO NOTHING;
     -- One update per account, in id order, so concurrent settlements lock rows in the same order.
     UPDATE accounts a SET available = a.available + d.available, locked = a.locked + d.locked
       FROM (SELECT x.id,
                    sum(CASE WHEN p->>'bucket' = 'available' THEN (p->>'amount')::numeric ELSE 0 END) AS available,
                    sum(CASE WHEN p->>'bucket' = 'locked' THEN (p->>'amount')::numeric ELSE 0 END) AS locked
               FROM jsonb_array_elements(p_postings) p
               JOIN accounts x ON x.owner = p->>'owner' AND x.asset = p->>'asset'
              GROUP BY x.id ORDER BY x.id) d
      WHERE a.id = d.id;
     INSERT INTO ledger_entries (tx_id, account_id, asset, bucket, amount)
       SELECT v_tx, x.id, p->>'asset', p->>'bucket', (p->>'amount')::numeric
         FROM jsonb_array_elements(p_postings) p JOIN accounts x ON x.owner = p->>'owner' AND x.asset = p->>'asset';
     RETURN true;
   END $$;

   CREATE FUNCTION release_order_lock(p_order_id bigint) RETURNS boolean
   LANGUAGE plpgsql AS $$
   DECLARE r record;
   BEGIN
     SELECT user_id, asset, remaining, status INTO r FROM order_locks WHERE order_id = p_order_id FOR UPDATE;
     IF NOT FOUND OR r.status <> 'open' THEN RETURN false; END IF;
     IF r.remaining > 0 THEN
       PERFORM ledger_post('unlock', 'order:' || p_order_id, jsonb_build_array(
         jsonb_build_object('owner', 'user:' || r.user_id, 'asset', r.asset, 'bucket', 'available',
                            'amount', r.remaining::text),
         jsonb_build_object('owner', 'user:' || r.user_id, 'asset', r.asset, 'bucket', 'locked',
                            'amount', (-r.remaining)::text)));
     END IF;
     UPDATE order_locks SET remaining = 0, status = 'closed', closed_at = clock_timestamp() WHERE order_id = p_order_id;
     RETURN true;
   END $$;

   -- One trade, once per (market, trade id): postings, then each order's lock shrinks by what it paid.
   CREATE FUNCTION settle_trade(p jsonb) RETURNS boolean
   LANGUAGE plpgsql AS $$
   DECLARE s jsonb;
   BEGIN
     INSERT INTO settled_trades (market, trade_id, maker_order_id, taker_order_id, price_ticks, qty_lots, taker_side,
                                 trade_ms)
       VALUES (p->>'market', (p->>'tradeId')::bigint, (p->>'makerOrderId')::bigint, (p->>'takerOrderId')::bigint,
               (p->>'price')::bigint, (p->>'quantity')::bigint, p->>'takerSide', (p->>'ts')::bigint)
       ON CONFLICT DO NOTHING;
     IF NOT FOUND THEN RETURN false; END IF;
     PERFORM ledger_post('trade', (p->>'market') || ':' || (p->>'tradeId'), p->'postings');
     FOR s IN SELECT * FROM jsonb_array_elements(p->'shrink') LOOP
       UPDATE order_locks SET remaining = remaining - (s->>'amount')::numeric
        WHERE order_id = (s->>'orderId')::bigint AND remaining >= (s->>'amount')::numeric;
       IF NOT FOUND THEN
         RAISE EXCEPTION 'order % has less locked than trade %:% needs', s->>'orderId', p->>'market', p->>'tradeId'
           USING ERRCODE = 'check_violation';
       END IF;
     END LOOP;
     RETURN true;
   END $$;

   -- A batch of engine answers in stream order, then the orders' progress (absolute, seq-guarded) and the
   -- outbox rows of the applied commands; returns the current rows of the orders touched.
   CREATE FUNCTION settle_batch(p_ops jsonb, p_progress jsonb, p_cmd_ids text[], p_touched bigint[])
   RETURNS SETOF orders
   LANGUAGE plpgsql AS $$
   DECLARE op jsonb;
   BEGIN
     FOR op IN SELECT * FROM jsonb_array_elements(p_ops) LOOP
       CASE op->>'op'
         WHEN 'trade' THEN PERFORM settle_trade(op);
         WHEN 'release' THEN PERFORM release_order_lock((op->>'orderId')::bigint);
         -- A rejection answers an order only if the engine never answered it before: a duplicate or stale
         -- redelivery of a place, or a cancel of an order already closed, changes nothing. A cancel the engine
         -- rejects for an order it never saw closes it for good (the engine refuses that id from then on).
         WHEN 'rejectPlace', 'rejectCancel' THEN
           UPDATE orders SET status = CASE WHEN op->>'op' = 'rejectPlace' THEN 'REJECTED' ELSE 'CANCELED' END,
                             last_seq = (op->>'seq')::bigint, update_ms = (op->>'ts')::bigint
            WHERE order_id = (op->>'orderId')::bigint AND last_seq = 0;
           IF FOUND THEN PERFORM release_order_lock((op->>'orderId')::bigint); END IF;
         ELSE RAISE EXCEPTION 'unknown settlement operation %', op->>'op' USING ERRCODE = 'data_exception';
       END CASE;
     END LOOP;
     UPDATE orders o SET
       status = coalesce(u.status, o.status),
       executed_lots = coalesce(u.executed_lots, o.executed_lots),
       cum_quote = coalesce(u.cum_quote, o.cum_quote),
       price_ticks = coalesce(u.price_ticks, o.price_ticks),
       qty_lots = coalesce(u.qty_lots, o.qty_lots),
       is_working = coalesce(u.is_working, o.is_working),
       working_ms = coalesce(u.working_ms, o.working_ms),
       update_ms = u.update_ms,
       last_seq = u.seq
     FROM jsonb_to_recordset(p_progress) AS u(order_id bigint, seq bigint, update_ms bigint, status text,
       executed_lots bigint, cum_quote bigint, price_ticks bigint, qty_lots bigint, is_working boolean, working_ms bigint)
     WHERE o.order_id = u.order_id AND o.last_seq < u.seq;
     UPDATE outbox SET applied_at = clock_timestamp() WHERE cmd_id = ANY(p_cmd_ids) AND applied_at IS NULL;
     RETURN QUERY SELECT * FROM orders WHERE order_id = ANY(p_touched);
   END $$;`,
  // 5: Binance's ORDERS rate limits per account, counted in the accept transaction (exact across API
  // containers; the user row's lock already serialises an account's placements).
  `CREATE TABLE order_rate (
     user_id bigint PRIMARY KEY REFERENCES users (id),
     window_10s bigint NOT NULL,
     count_10s int NOT NULL,
     day int NOT NULL,
     count_day int NOT NULL
   );
   DROP FUNCTION accept_order(text, bigint, bigint, text, int, text, numeric, jsonb, jsonb, text);
   CREATE FUNCTION accept_order(
     p_signature text, p_signature_expires_ms bigint, p_user_id bigint, p_market text, p_max_open int,
     p_asset text, p_amount numeric, p_order jsonb, p_command jsonb, p_group_id text,
     p_limit_10s int, p_limit_day int, p_now_ms bigint
   ) RETURNS TABLE (outcome text, new_order_id bigint, command text, orders_10s int, orders_day int)
   LANGUAGE plpgsql AS $$
   DECLARE
     v_account bigint;
     v_order_id bigint;
     v_tx bigint;
     v_body text;
     v_window bigint := p_now_ms / 10000;
     v_day int := (p_now_ms / 86400000)::int;
     v_n10 int;
     v_nday int;
   BEGIN
     IF p_signature IS NOT NULL THEN
       INSERT INTO request_signatures VALUES (p_signature, p_signature_expires_ms) ON CONFLICT DO NOTHING;
       IF NOT FOUND THEN RETURN QUERY SELECT 'replayed_signature', NULL::bigint, NULL::text, NULL::int, NULL::int; RETURN; END IF;
     END IF;
     PERFORM 1 FROM users WHERE id = p_user_id FOR UPDATE;
     -- Binance's ORDERS limits: orders accepted per account in the current 10-second window and UTC day.
     SELECT CASE WHEN r.window_10s = v_window THEN r.count_10s ELSE 0 END,
            CASE WHEN r.day = v_day THEN r.count_day ELSE 0 END
       INTO v_n10, v_nday FROM order_rate r WHERE r.user_id = p_user_id;
     v_n10 := coalesce(v_n10, 0);
     v_nday := coalesce(v_nday, 0);
     IF v_n10 >= p_limit_10s THEN
       RETURN QUERY SELECT 'order_rate_10s', NULL::bigint, NULL::text, v_n10, v_nday; RETURN;
     END IF;
     IF v_nday >= p_limit_day THEN
       RETURN QUERY SELECT 'order_rate_day', NULL::bigint, NULL::text, v_n10, v_nday; RETURN;
     END IF;
     IF EXISTS (SELECT 1 FROM orders WHERE user_id = p_user_id AND market = p_market
                  AND client_order_id = p_order->>'client_order_id' AND status IN ('NEW', 'PARTIALLY_FILLED')) THEN
       RETURN QUERY SELECT 'duplicate_client_order_id', NULL::bigint, NULL::text, v_n10, v_nday; RETURN;
     END IF;
     IF (SELECT count(*) FROM order_locks WHERE user_id = p_user_id AND market = p_market AND status = 'open')
          >= p_max_open THEN
       RETURN QUERY SELECT 'too_many_open_orders', NULL::bigint, NULL::text, v_n10, v_nday; RETURN;
     END IF;
     UPDATE accounts SET available = available - p_amount, locked = locked + p_amount
      WHERE owner = 'user:' || p_user_id AND asset = p_asset AND available >= p_amount
      RETURNING id INTO v_account;
     IF v_account IS NULL THEN
       RETURN QUERY SELECT 'insufficient_balance', NULL::bigint, NULL::text, v_n10, v_nday; RETURN;
     END IF;
     v_order_id := nextval('order_ids');
     INSERT INTO ledger_transactions (kind, reference) VALUES ('lock', 'order:' || v_order_id) RETURNING id INTO v_tx;
     INSERT INTO ledger_entries (tx_id, account_id, asset, bucket, amount)
       VALUES (v_tx, v_account, p_asset, 'available', -p_amount), (v_tx, v_account, p_asset, 'locked', p_amount);
     INSERT INTO order_locks (order_id, user_id, market, asset, locked_total, remaining)
       VALUES (v_order_id, p_user_id, p_market, p_asset, p_amount, p_amount);
     INSERT INTO orders
       SELECT * FROM jsonb_populate_record(NULL::orders, p_order || jsonb_build_object('order_id', v_order_id));
     v_body := jsonb_build_object('v', 1, 'cmdId', 'p-' || v_order_id,
                                  'command', p_command || jsonb_build_object('orderId', v_order_id))::text;
     INSERT INTO outbox (cmd_id, market, group_id, body) VALUES ('p-' || v_order_id, p_market, p_group_id, v_body);
     INSERT INTO order_rate AS r VALUES (p_user_id, v_window, 1, v_day, 1)
       ON CONFLICT (user_id) DO UPDATE SET window_10s = v_window, count_10s = v_n10 + 1, day = v_day,
                                           count_day = v_nday + 1;
     RETURN QUERY SELECT 'accepted', v_order_id, v_body, v_n10 + 1, v_nday + 1;
   END $$;`,
  // 6: deposits (docs/wallets.md). One address per user and network, derived from the deposit xpub at the
  // index taken from a sequence (gaps are harmless). A deposit is one (network, tx hash, log index; -1 for a
  // native transfer): pending while its block may still be dropped, credited once through ledger_post.
  `CREATE SEQUENCE deposit_address_index;
   CREATE TABLE deposit_addresses (
     user_id bigint NOT NULL REFERENCES users (id),
     network text NOT NULL,
     derivation_index bigint NOT NULL,
     address text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (user_id, network),
     UNIQUE (network, address),
     UNIQUE (network, derivation_index)
   );
   CREATE TABLE deposits (
     id bigserial PRIMARY KEY,
     network text NOT NULL,
     tx_hash text NOT NULL,
     log_index int NOT NULL,
     user_id bigint NOT NULL REFERENCES users (id),
     coin text NOT NULL,
     address text NOT NULL,
     chain_amount numeric(78,0) NOT NULL,
     amount numeric(38,0) NOT NULL CHECK (amount > 0),
     block_number bigint NOT NULL,
     block_hash text NOT NULL,
     confirmations int NOT NULL DEFAULT 0,
     required_confirmations int NOT NULL,
     status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'credited')),
     insert_ms bigint NOT NULL,
     credited_ms bigint,
     UNIQUE (network, tx_hash, log_index)
   );
   CREATE INDEX deposits_by_user ON deposits (user_id, insert_ms);
   CREATE INDEX deposits_pending ON deposits (network, block_number) WHERE status = 'pending';`,
  // 7: amend keep priority (PUT /api/v3/order/amend/keepPriority). The engine's answer to an amend lowers the
  // order's quantity in settle_batch's progress update (seq-guarded, so once); this trigger releases, in that
  // same transaction, the part of the lock the lower quantity no longer needs: the funds come back only with
  // the engine's answer. A limit order's lock is linear in its quantity at its fixed price (price × quantity
  // of quote for a BUY, the quantity of base for a SELL), so the freed part is lock × removed / quantity,
  // exactly, and lock_amount keeps that ratio for the next amend. A lock already closed (the order closed in
  // the same batch) has nothing left to free; a price change (the API never sends one) is left to the close.
  `CREATE FUNCTION release_amended_lock() RETURNS trigger
   LANGUAGE plpgsql AS $$
   DECLARE
     v_status text;
     v_freed numeric;
   BEGIN
     SELECT status INTO v_status FROM order_locks WHERE order_id = OLD.order_id FOR UPDATE;
     IF NOT FOUND OR v_status <> 'open' THEN RETURN NEW; END IF;
     v_freed := div(OLD.lock_amount * (OLD.qty_lots - NEW.qty_lots), OLD.qty_lots);
     IF v_freed <= 0 THEN RETURN NEW; END IF;
     IF NOT ledger_post('unlock', 'order:' || OLD.order_id || ':amend:' || NEW.last_seq, jsonb_build_array(
          jsonb_build_object('owner', 'user:' || OLD.user_id, 'asset', OLD.lock_asset, 'bucket', 'available',
                             'amount', v_freed::text),
          jsonb_build_object('owner', 'user:' || OLD.user_id, 'asset', OLD.lock_asset, 'bucket', 'locked',
                             'amount', (-v_freed)::text))) THEN
       RETURN NEW;
     END IF;
     UPDATE order_locks SET remaining = remaining - v_freed WHERE order_id = OLD.order_id AND remaining >= v_freed;
     IF NOT FOUND THEN
       RAISE EXCEPTION 'order % has less locked than its amend frees', OLD.order_id USING ERRCODE = 'check_violation';
     END IF;
     NEW.lock_amount := OLD.lock_amount - v_freed;
     RETURN NEW;
   END $$;
   CREATE TRIGGER orders_amend_release BEFORE UPDATE OF qty_lots ON orders FOR EACH ROW
     WHEN (NEW.qty_lots < OLD.qty_lots AND NEW.price_ticks = OLD.price_ticks AND OLD.qty_lots > 0)
     EXECUTE FUNCTION release_amended_lock();`,
  // 8: withdrawals (docs/wallets.md#withdrawals). The row commits with its ledger lock (amount + network fee)
  // in one transaction; the wallet signs it (nonce, hash and raw transaction stored before the broadcast, so a
  // crash rebroadcasts the same transaction) and finalises it once: status guards and unique ledger references.
  `CREATE TABLE withdrawals (
     id bigserial PRIMARY KEY,
     user_id bigint NOT NULL REFERENCES users(id),
     coin text NOT NULL,
     network text NOT NULL,
     address text NOT NULL,
     amount numeric(38,0) NOT NULL CHECK (amount > 0),
     fee numeric(38,0) NOT NULL CHECK (fee >= 0),
     chain_amount numeric(78,0) NOT NULL,
     status text NOT NULL CHECK (status IN ('pending', 'broadcast', 'confirmed', 'failed')),
     nonce bigint,
     tx_hash text,
     raw_tx text,
     apply_ms bigint NOT NULL,
     complete_ms bigint,
     UNIQUE (network, nonce)
   );
   CREATE INDEX withdrawals_user ON withdrawals (user_id, apply_ms DESC);
   CREATE INDEX withdrawals_open ON withdrawals (status, id) WHERE status IN ('pending', 'broadcast');`,
  // 9: least privilege in the database (docs/architecture.md#database-roles). One NOLOGIN group role per
  // function family with exactly the tables, columns, sequences and functions its code uses; the login users
  // (one per family, password in its own secret) are created by lambdas/db-migrate/logins.ts and join their
  // role. The functions run with the caller's rights, so a role holds what its functions touch. PostgreSQL
  // has no lock-only privilege: SELECT … FOR UPDATE needs UPDATE on some column, so the API gets it on
  // users.created_at and orders.update_ms only (it changes neither). Nobody but the owner may UPDATE or
  // DELETE settled_trades, ledger_entries or ledger_transactions. A later migration that adds a table or a
  // function grants it here-style, to the roles whose code uses it (functions are no longer PUBLIC).
  `DO $$
   DECLARE r text;
   BEGIN
     FOREACH r IN ARRAY ARRAY['cirrus_api', 'cirrus_processor', 'cirrus_read_models', 'cirrus_ws_fanout',
                              'cirrus_relay', 'cirrus_wallet', 'cirrus_chain_listener', 'cirrus_reconciliation'] LOOP
       IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
         EXECUTE format('CREATE ROLE %I NOLOGIN', r);
       END IF;
       EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', r);
     END LOOP;
   END $$;
   REVOKE CREATE ON SCHEMA public FROM PUBLIC;
   REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
   ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

   -- REST and WebSocket API: registration and keys, order accept/cancel (accept_order, outbox), balances,
   -- deposit addresses and history, withdrawal requests (ledger_post), live orders and their fills.
   GRANT SELECT, INSERT ON users TO cirrus_api;
   GRANT UPDATE (created_at) ON users TO cirrus_api;
   GRANT SELECT, INSERT ON api_keys TO cirrus_api;
   GRANT UPDATE (revoked_at) ON api_keys TO cirrus_api;
   GRANT SELECT, INSERT ON accounts, ledger_transactions TO cirrus_api;
   GRANT UPDATE (available, locked) ON accounts TO cirrus_api;
   GRANT INSERT ON ledger_entries, request_signatures TO cirrus_api;
   GRANT SELECT, INSERT ON order_locks, orders, deposit_addresses, withdrawals TO cirrus_api;
   GRANT UPDATE (update_ms) ON orders TO cirrus_api;
   GRANT SELECT, INSERT, UPDATE ON order_rate TO cirrus_api;
   GRANT SELECT, INSERT ON outbox TO cirrus_api;
   GRANT UPDATE (applied_at, sends, last_sent_at) ON outbox TO cirrus_api;
   GRANT SELECT ON settled_trades, deposits TO cirrus_api;
   GRANT USAGE ON SEQUENCE users_id_seq, api_keys_id_seq, accounts_id_seq, ledger_transactions_id_seq,
     ledger_entries_id_seq, order_ids, outbox_id_seq, deposit_address_index, withdrawals_id_seq TO cirrus_api;
   GRANT EXECUTE ON FUNCTION accept_order(text, bigint, bigint, text, int, text, numeric, jsonb, jsonb, text, int,
     int, bigint), ledger_post(text, text, jsonb) TO cirrus_api;

   -- Data processor (settlement): settle_batch and what it calls, the amend trigger, quarantine.
   GRANT SELECT, INSERT ON settled_trades, accounts, ledger_transactions, quarantined_records TO cirrus_processor;
   GRANT INSERT ON ledger_entries TO cirrus_processor;
   GRANT UPDATE (available, locked) ON accounts TO cirrus_processor;
   GRANT SELECT ON order_locks, orders, outbox TO cirrus_processor;
   GRANT UPDATE (remaining, status, closed_at) ON order_locks TO cirrus_processor;
   GRANT UPDATE (status, executed_lots, cum_quote, price_ticks, qty_lots, is_working, working_ms, update_ms, last_seq)
     ON orders TO cirrus_processor;
   GRANT UPDATE (applied_at) ON outbox TO cirrus_processor;
   GRANT UPDATE (replayed_at) ON quarantined_records TO cirrus_processor;
   GRANT USAGE ON SEQUENCE accounts_id_seq, ledger_transactions_id_seq, ledger_entries_id_seq,
     quarantined_records_id_seq TO cirrus_processor;
   GRANT EXECUTE ON FUNCTION settle_batch(jsonb, jsonb, text[], bigint[]), settle_trade(jsonb),
     release_order_lock(bigint), ledger_post(text, text, jsonb), release_amended_lock() TO cirrus_processor;

   -- Read models: the rows of the orders a batch closes. WebSocket fan-out: those rows and balances.
   GRANT SELECT ON orders TO cirrus_read_models;
   GRANT SELECT ON orders, accounts TO cirrus_ws_fanout;

   -- Outbox relay: due rows, their send counters, pruning of applied rows and expired replay markers.
   GRANT SELECT, DELETE ON outbox, request_signatures TO cirrus_relay;
   GRANT UPDATE (sends, last_sent_at) ON outbox TO cirrus_relay;

   -- Wallet: open withdrawals, nonces, signed transactions, final postings (ledger_post).
   GRANT SELECT ON withdrawals TO cirrus_wallet;
   GRANT UPDATE (status, nonce, tx_hash, raw_tx, complete_ms) ON withdrawals TO cirrus_wallet;
   GRANT SELECT, INSERT ON accounts, ledger_transactions TO cirrus_wallet;
   GRANT INSERT ON ledger_entries TO cirrus_wallet;
   GRANT UPDATE (available, locked) ON accounts TO cirrus_wallet;
   GRANT USAGE ON SEQUENCE accounts_id_seq, ledger_transactions_id_seq, ledger_entries_id_seq TO cirrus_wallet;
   GRANT EXECUTE ON FUNCTION ledger_post(text, text, jsonb) TO cirrus_wallet;

   -- Chain listener: owners of deposit addresses, deposits recorded, confirmed, dropped on a reorg, credited.
   GRANT SELECT ON deposit_addresses TO cirrus_chain_listener;
   GRANT SELECT, INSERT, DELETE ON deposits TO cirrus_chain_listener;
   GRANT UPDATE (confirmations, status, credited_ms) ON deposits TO cirrus_chain_listener;
   GRANT SELECT, INSERT ON accounts, ledger_transactions TO cirrus_chain_listener;
   GRANT INSERT ON ledger_entries TO cirrus_chain_listener;
   GRANT UPDATE (available, locked) ON accounts TO cirrus_chain_listener;
   GRANT USAGE ON SEQUENCE deposits_id_seq, accounts_id_seq, ledger_transactions_id_seq, ledger_entries_id_seq
     TO cirrus_chain_listener;
   GRANT EXECUTE ON FUNCTION ledger_post(text, text, jsonb) TO cirrus_chain_listener;

   -- Reconciliation: reads the ledger in one read-only snapshot, writes its audit row.
   GRANT SELECT ON accounts, order_locks, withdrawals, ledger_entries, orders, quarantined_records, outbox
     TO cirrus_reconciliation;
   GRANT INSERT ON audit_log TO cirrus_reconciliation;
   GRANT USAGE ON SEQUENCE audit_log_id_seq TO cirrus_reconciliation;`,
  // 10: withdrawal protections (docs/wallets.md#withdrawals). A user's TOTP secret (a KMS ciphertext), whether
  // 2FA is on, the last accepted time step (a code is accepted only above it: one conditional UPDATE, so a
  // code is never accepted twice) and the recent wrong codes (a guesser is stopped); the withdrawal address allowlist, each address usable from `usable_ms` (the
  // hold) and removed by a mark, never deleted; an index for the exchange-wide 24 h sum per coin, which the
  // request reads under a per-coin transaction lock. All three are the API's alone.
  `CREATE TABLE user_totp (
     user_id bigint PRIMARY KEY REFERENCES users(id),
     secret_ciphertext text,
     enrolled_ms bigint NOT NULL,
     enabled_ms bigint,
     last_step bigint NOT NULL DEFAULT -1,
     failures int NOT NULL DEFAULT 0,
     failures_since_ms bigint NOT NULL DEFAULT 0,
     CHECK (enabled_ms IS NULL OR secret_ciphertext IS NOT NULL)
   );
   CREATE TABLE withdraw_addresses (
     id bigserial PRIMARY KEY,
     user_id bigint NOT NULL REFERENCES users(id),
     coin text NOT NULL,
     network text NOT NULL,
     address text NOT NULL CHECK (address = lower(address)),
     label text NOT NULL DEFAULT '',
     added_ms bigint NOT NULL,
     usable_ms bigint NOT NULL CHECK (usable_ms >= added_ms),
     removed_ms bigint
   );
   CREATE UNIQUE INDEX withdraw_addresses_active ON withdraw_addresses (user_id, coin, network, address)
     WHERE removed_ms IS NULL;
   CREATE INDEX withdrawals_coin_recent ON withdrawals (coin, apply_ms);

   GRANT SELECT, INSERT ON user_totp, withdraw_addresses TO cirrus_api;
   GRANT UPDATE (secret_ciphertext, enrolled_ms, enabled_ms, last_step, failures, failures_since_ms) ON user_totp
     TO cirrus_api;
   GRANT UPDATE (removed_ms) ON withdraw_addresses TO cirrus_api;
   GRANT USAGE ON SEQUENCE withdraw_addresses_id_seq TO cirrus_api;`,
  // 11: API keys restricted to IP addresses (docs/api.md#cirrus-endpoints): a comma list the key may be used from (NULL:
  // any address). A key with the withdraw permission always has one, as Binance requires.
  `ALTER TABLE api_keys ADD COLUMN ip_allowlist text CHECK (ip_allowlist IS NULL OR ip_allowlist <> '');`,
  // 12: balance events (docs/wallets.md#balance-events). A ledger transaction that moves a user's funds and is
  // not a trade (a deposit credited, a withdrawal requested, sent or released) records, in the same
  // transaction, one row per user and asset with the change of the available balance; the outbox relay
  // publishes the rows to the wallet-event stream (Binance's balanceUpdate) and marks them. ledger_post is
  // re-created whole: the same body, plus that insert for those kinds.
  `CREATE TABLE balance_events (
     id bigserial PRIMARY KEY,
     tx_id bigint NOT NULL REFERENCES ledger_transactions(id),
     user_id bigint NOT NULL,
     asset text NOT NULL,
     delta numeric(38,0) NOT NULL,
     kind text NOT NULL,
     reference text NOT NULL,
     created_ms bigint NOT NULL,
     published_at timestamptz,
     UNIQUE (tx_id, user_id, asset)
   );
   CREATE INDEX balance_events_unpublished ON balance_events (id) WHERE published_at IS NULL;

   CREATE OR REPLACE FUNCTION ledger_post(p_kind text, p_reference text, p_postings jsonb) RETURNS boolean
   LANGUAGE plpgsql AS $$
   DECLARE v_tx bigint;
   BEGIN
     INSERT INTO ledger_transactions (kind, reference) VALUES (p_kind, p_reference)
       ON CONFLICT DO NOTHING RETURNING id INTO v_tx;
     IF v_tx IS NULL THEN RETURN false; END IF;
     INSERT INTO accounts (owner, asset)
       SELECT DISTINCT p->>'owner', p->>'asset' FROM jsonb_array_elements(p_postings) p
       ON CONFLICT (owner, asset) DO NOTHING;
     -- One update per account, in id order, so concurrent settlements lock rows in the same order.
     UPDATE accounts a SET available = a.available + d.available, locked = a.locked + d.locked
       FROM (SELECT x.id,
                    sum(CASE WHEN p->>'bucket' = 'available' THEN (p->>'amount')::numeric ELSE 0 END) AS available,
                    sum(CASE WHEN p->>'bucket' = 'locked' THEN (p->>'amount')::numeric ELSE 0 END) AS locked
               FROM jsonb_array_elements(p_postings) p
               JOIN accounts x ON x.owner = p->>'owner' AND x.asset = p->>'asset'
              GROUP BY x.id ORDER BY x.id) d
      WHERE a.id = d.id;
     INSERT INTO ledger_entries (tx_id, account_id, asset, bucket, amount)
       SELECT v_tx, x.id, p->>'asset', p->>'bucket', (p->>'amount')::numeric
         FROM jsonb_array_elements(p_postings) p JOIN accounts x ON x.owner = p->>'owner' AND x.asset = p->>'asset';
     IF p_kind IN ('deposit', 'withdraw-lock', 'withdraw', 'withdraw-release') THEN
       INSERT INTO balance_events (tx_id, user_id, asset, delta, kind, reference, created_ms)
         SELECT v_tx, substr(p->>'owner', 6)::bigint, p->>'asset',
                sum(CASE WHEN p->>'bucket' = 'available' THEN (p->>'amount')::numeric ELSE 0 END),
                p_kind, p_reference, (extract(epoch FROM clock_timestamp()) * 1000)::bigint
           FROM jsonb_array_elements(p_postings) p
          WHERE p->>'owner' LIKE 'user:%'
          GROUP BY substr(p->>'owner', 6)::bigint, p->>'asset';
     END IF;
     RETURN true;
   END $$;

   -- Who posts those kinds records their events; the relay publishes and prunes them.
   GRANT INSERT ON balance_events TO cirrus_api, cirrus_wallet, cirrus_chain_listener;
   GRANT USAGE ON SEQUENCE balance_events_id_seq TO cirrus_api, cirrus_wallet, cirrus_chain_listener;
   GRANT SELECT, DELETE ON balance_events TO cirrus_relay;
   GRANT UPDATE (published_at) ON balance_events TO cirrus_relay;`,
  // 13: the search indexer's own role (it ran as the read models'): the order rows of a batch, and the
  // deposits and withdrawals its wallet-event documents show (docs/api.md#search). Read-only.
  `DO $$
   BEGIN
     IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cirrus_search_indexer') THEN
       CREATE ROLE cirrus_search_indexer NOLOGIN;
     END IF;
   END $$;
   GRANT USAGE ON SCHEMA public TO cirrus_search_indexer;
   GRANT SELECT ON orders, deposits, withdrawals TO cirrus_search_indexer;`,
  // 14: money moves only through the ledger's functions (docs/architecture.md#database-roles). ledger_post
  // and accept_order run with their owner's rights (SECURITY DEFINER, search_path pinned); the families lose
  // their direct writes to accounts, ledger transactions and entries and balance events, so a family can
  // change a balance only by a posting, and ledger_post accepts from each family only its own kinds (the
  // API cannot credit a deposit, the chain listener cannot settle a trade). The owner posts any kind.
  `CREATE OR REPLACE FUNCTION ledger_post(p_kind text, p_reference text, p_postings jsonb) RETURNS boolean
   LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
   DECLARE
     v_tx bigint;
     v_own_kind boolean;
   BEGIN
     -- Each family posts its own kinds only; the owner (migrations, operator tools) posts any.
     v_own_kind := CASE
       WHEN p_kind IN ('trade', 'unlock') THEN pg_has_role(session_user, 'cirrus_processor', 'USAGE')
       WHEN p_kind IN ('lock', 'withdraw-lock') THEN pg_has_role(session_user, 'cirrus_api', 'USAGE')
       WHEN p_kind IN ('withdraw', 'withdraw-release') THEN pg_has_role(session_user, 'cirrus_wallet', 'USAGE')
       WHEN p_kind = 'deposit' THEN pg_has_role(session_user, 'cirrus_chain_listener', 'USAGE')
       ELSE false
     END;
     IF NOT v_own_kind AND (pg_has_role(session_user, 'cirrus_processor', 'USAGE')
          OR pg_has_role(session_user, 'cirrus_api', 'USAGE')
          OR pg_has_role(session_user, 'cirrus_wallet', 'USAGE')
          OR pg_has_role(session_user, 'cirrus_chain_listener', 'USAGE')
          OR pg_has_role(session_user, 'cirrus_read_models', 'USAGE')
          OR pg_has_role(session_user, 'cirrus_ws_fanout', 'USAGE')
          OR pg_has_role(session_user, 'cirrus_relay', 'USAGE')
          OR pg_has_role(session_user, 'cirrus_reconciliation', 'USAGE')
          OR pg_has_role(session_user, 'cirrus_search_indexer', 'USAGE')) THEN
       RAISE EXCEPTION 'ledger kind % may not be posted by %', p_kind, session_user USING ERRCODE = '42501';
     END IF;
     INSERT INTO ledger_transactions (kind, reference) VALUES (p_kind, p_reference)
       ON CONFLICT DO NOTHING RETURNING id INTO v_tx;
     IF v_tx IS NULL THEN RETURN false; END IF;
     INSERT INTO accounts (owner, asset)
       SELECT DISTINCT p->>'owner', p->>'asset' FROM jsonb_array_elements(p_postings) p
       ON CONFLICT (owner, asset) DO NOTHING;
     -- One update per account, in id order, so concurrent settlements lock rows in the same order.
     UPDATE accounts a SET available = a.available + d.available, locked = a.locked + d.locked
       FROM (SELECT x.id,
                    sum(CASE WHEN p->>'bucket' = 'available' THEN (p->>'amount')::numeric ELSE 0 END) AS available,
                    sum(CASE WHEN p->>'bucket' = 'locked' THEN (p->>'amount')::numeric ELSE 0 END) AS locked
               FROM jsonb_array_elements(p_postings) p
               JOIN accounts x ON x.owner = p->>'owner' AND x.asset = p->>'asset'
              GROUP BY x.id ORDER BY x.id) d
      WHERE a.id = d.id;
     INSERT INTO ledger_entries (tx_id, account_id, asset, bucket, amount)
       SELECT v_tx, x.id, p->>'asset', p->>'bucket', (p->>'amount')::numeric
         FROM jsonb_array_elements(p_postings) p JOIN accounts x ON x.owner = p->>'owner' AND x.asset = p->>'asset';
     IF p_kind IN ('deposit', 'withdraw-lock', 'withdraw', 'withdraw-release') THEN
       INSERT INTO balance_events (tx_id, user_id, asset, delta, kind, reference, created_ms)
         SELECT v_tx, substr(p->>'owner', 6)::bigint, p->>'asset',
                sum(CASE WHEN p->>'bucket' = 'available' THEN (p->>'amount')::numeric ELSE 0 END),
                p_kind, p_reference, (extract(epoch FROM clock_timestamp()) * 1000)::bigint
           FROM jsonb_array_elements(p_postings) p
          WHERE p->>'owner' LIKE 'user:%'
          GROUP BY substr(p->>'owner', 6)::bigint, p->>'asset';
     END IF;
     RETURN true;
   END $$;
   ALTER FUNCTION accept_order(text, bigint, bigint, text, int, text, numeric, jsonb, jsonb, text, int, int, bigint)
     SECURITY DEFINER SET search_path = public, pg_temp;
   REVOKE INSERT, UPDATE ON accounts, ledger_transactions, ledger_entries, balance_events
     FROM cirrus_api, cirrus_processor, cirrus_wallet, cirrus_chain_listener;
   REVOKE USAGE ON SEQUENCE accounts_id_seq, ledger_transactions_id_seq, ledger_entries_id_seq, balance_events_id_seq
     FROM cirrus_api, cirrus_processor, cirrus_wallet, cirrus_chain_listener;`,
  // 15: every signed transaction of a withdrawal (docs/wallets.md#withdrawals): the first (attempt 0) and each
  // replacement of a stuck one (same nonce, higher fees), stored before it is broadcast and never changed, so
  // the receipt check can look at all of them (the original may still mine after a replacement). The
  // withdrawal's own tx_hash/raw_tx is the latest attempt while in flight, the mined one once final. Attempts
  // signed before this migration are copied in with unknown fees (their raw transaction holds them) and their
  // request time as signing time (at worst an early replacement).
  `CREATE TABLE withdrawal_attempts (
     withdrawal_id bigint NOT NULL REFERENCES withdrawals(id),
     attempt int NOT NULL CHECK (attempt >= 0),
     tx_hash text NOT NULL UNIQUE,
     raw_tx text NOT NULL,
     max_fee_per_gas numeric(78,0),
     max_priority_fee_per_gas numeric(78,0),
     signed_ms bigint NOT NULL,
     PRIMARY KEY (withdrawal_id, attempt)
   );
   INSERT INTO withdrawal_attempts (withdrawal_id, attempt, tx_hash, raw_tx, signed_ms)
     SELECT id, 0, tx_hash, raw_tx, apply_ms FROM withdrawals WHERE tx_hash IS NOT NULL AND raw_tx IS NOT NULL;

   GRANT SELECT, INSERT ON withdrawal_attempts TO cirrus_wallet;`,
  // 16: trailing stops (docs/api.md#trailing-stops) on the live order row: the delta in BIPS the order was
  // placed with and when it started trailing (-1 until then); NULL for every other order (accept_order
  // builds the row from JSON, which leaves absent keys NULL). settle_batch is re-created whole to advance
  // trailing_ms with the rest of the order's progress.
  `ALTER TABLE orders ADD COLUMN trailing_delta bigint CHECK (trailing_delta IS NULL OR trailing_delta > 0),
                      ADD COLUMN trailing_ms bigint;
   CREATE OR REPLACE FUNCTION settle_batch(p_ops jsonb, p_progress jsonb, p_cmd_ids text[], p_touched bigint[])
   RETURNS SETOF orders
   LANGUAGE plpgsql AS $$
   DECLARE op jsonb;
   BEGIN
     FOR op IN SELECT * FROM jsonb_array_elements(p_ops) LOOP
       CASE op->>'op'
         WHEN 'trade' THEN PERFORM settle_trade(op);
         WHEN 'release' THEN PERFORM release_order_lock((op->>'orderId')::bigint);
         -- A rejection answers an order only if the engine never answered it before: a duplicate or stale
         -- redelivery of a place, or a cancel of an order already closed, changes nothing. A cancel the engine
         -- rejects for an order it never saw closes it for good (the engine refuses that id from then on).
         WHEN 'rejectPlace', 'rejectCancel' THEN
           UPDATE orders SET status = CASE WHEN op->>'op' = 'rejectPlace' THEN 'REJECTED' ELSE 'CANCELED' END,
                             last_seq = (op->>'seq')::bigint, update_ms = (op->>'ts')::bigint
            WHERE order_id = (op->>'orderId')::bigint AND last_seq = 0;
           IF FOUND THEN PERFORM release_order_lock((op->>'orderId')::bigint); END IF;
         ELSE RAISE EXCEPTION 'unknown settlement operation %', op->>'op' USING ERRCODE = 'data_exception';
       END CASE;
     END LOOP;
     UPDATE orders o SET
       status = coalesce(u.status, o.status),
       executed_lots = coalesce(u.executed_lots, o.executed_lots),
       cum_quote = coalesce(u.cum_quote, o.cum_quote),
       price_ticks = coalesce(u.price_ticks, o.price_ticks),
       qty_lots = coalesce(u.qty_lots, o.qty_lots),
       is_working = coalesce(u.is_working, o.is_working),
       working_ms = coalesce(u.working_ms, o.working_ms),
       trailing_ms = coalesce(u.trailing_ms, o.trailing_ms),
       update_ms = u.update_ms,
       last_seq = u.seq
     FROM jsonb_to_recordset(p_progress) AS u(order_id bigint, seq bigint, update_ms bigint, status text,
       executed_lots bigint, cum_quote bigint, price_ticks bigint, qty_lots bigint, is_working boolean, working_ms bigint,
       trailing_ms bigint)
     WHERE o.order_id = u.order_id AND o.last_seq < u.seq;
     UPDATE outbox SET applied_at = clock_timestamp() WHERE cmd_id = ANY(p_cmd_ids) AND applied_at IS NULL;
     RETURN QUERY SELECT * FROM orders WHERE order_id = ANY(p_touched);
   END $$;
   GRANT UPDATE (trailing_ms) ON orders TO cirrus_processor;`,
  // 17: order lists (OCO; docs/api.md#order-lists) and prevented matches (docs/api.md#prevented-matches). A
  // list commits in ONE transaction, as a single order does: replay marker, ORDERS counts (one per leg), the
  // list's funds lock, the list row, one order row per leg (orders.order_list_id) and ONE engine command
  // (`placeList`) in the outbox. The funds are locked once for the whole list, as Binance does: the lock row
  // is the list's, keyed by −list id in order_locks (order ids are positive, so the keys never meet), and
  // posted as 'lock'/'unlock' with reference 'list:<id>'. A leg's trade pays from its list's lock
  // (settle_trade re-created); a leg's close releases nothing (its order id has no lock row); the list's
  // remainder comes back only with the engine's listStatus ALL_DONE, or with a REJECT that answers a list
  // the engine never answered before (a redelivered duplicate changes nothing), both in settle_batch
  // (re-created whole with the new operations). Prevented matches (self-trade prevention) are stored once
  // per (market, preventedMatchId) for GET /api/v3/myPreventedMatches.
  `CREATE SEQUENCE order_list_ids;
   CREATE TABLE order_lists (
     list_id bigint PRIMARY KEY,
     user_id bigint NOT NULL,
     market text NOT NULL,
     list_client_order_id text NOT NULL,
     contingency_type text NOT NULL CHECK (contingency_type IN ('OCO', 'OTO', 'OTOCO')),
     list_status_type text NOT NULL DEFAULT 'EXEC_STARTED',
     list_order_status text NOT NULL DEFAULT 'EXECUTING',
     order_ids bigint[] NOT NULL,
     lock_asset text NOT NULL,
     lock_amount numeric(38,0) NOT NULL,
     created_ms bigint NOT NULL,
     update_ms bigint NOT NULL,
     last_seq bigint NOT NULL DEFAULT 0
   );
   -- Binance: a list client order id is unique among the user's open lists in a market.
   CREATE UNIQUE INDEX order_lists_open_client_id ON order_lists (user_id, market, list_client_order_id)
     WHERE list_order_status = 'EXECUTING';
   CREATE INDEX order_lists_by_user ON order_lists (user_id, list_id);
   ALTER TABLE orders ADD COLUMN order_list_id bigint;
   CREATE TABLE prevented_matches (
     market text NOT NULL,
     prevented_match_id bigint NOT NULL,
     user_id bigint NOT NULL,
     taker_order_id bigint NOT NULL,
     maker_order_id bigint NOT NULL,
     price_ticks bigint NOT NULL,
     maker_prevented_lots bigint NOT NULL,
     stp_mode text NOT NULL,
     transact_ms bigint NOT NULL,
     PRIMARY KEY (market, prevented_match_id)
   );
   CREATE INDEX prevented_matches_by_user ON prevented_matches (user_id, market, prevented_match_id);

   -- accept_order's checks and writes for a list: p_orders holds one order row per leg (order ids are
   -- allocated here), p_command the placeList command without listId and the legs' orderIds.
   CREATE FUNCTION accept_order_list(
     p_signature text, p_signature_expires_ms bigint, p_user_id bigint, p_market text, p_max_open int,
     p_asset text, p_amount numeric, p_list jsonb, p_orders jsonb, p_command jsonb, p_group_id text,
     p_limit_10s int, p_limit_day int, p_now_ms bigint
   ) RETURNS TABLE (outcome text, new_list_id bigint, new_order_ids bigint[], command text, orders_10s int,
                    orders_day int)
   LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
   DECLARE
     v_legs int := jsonb_array_length(p_orders);
     v_account bigint;
     v_list_id bigint;
     v_order_id bigint;
     v_ids bigint[] := '{}';
     v_cmd_legs jsonb := '[]'::jsonb;
     v_tx bigint;
     v_body text;
     v_window bigint := p_now_ms / 10000;
     v_day int := (p_now_ms / 86400000)::int;
     v_n10 int;
     v_nday int;
     v_open int;
   BEGIN
     IF p_signature IS NOT NULL THEN
       INSERT INTO request_signatures VALUES (p_signature, p_signature_expires_ms) ON CONFLICT DO NOTHING;
       IF NOT FOUND THEN
         RETURN QUERY SELECT 'replayed_signature', NULL::bigint, NULL::bigint[], NULL::text, NULL::int, NULL::int;
         RETURN;
       END IF;
     END IF;
     PERFORM 1 FROM users WHERE id = p_user_id FOR UPDATE;
     SELECT CASE WHEN r.window_10s = v_window THEN r.count_10s ELSE 0 END,
            CASE WHEN r.day = v_day THEN r.count_day ELSE 0 END
       INTO v_n10, v_nday FROM order_rate r WHERE r.user_id = p_user_id;
     v_n10 := coalesce(v_n10, 0);
     v_nday := coalesce(v_nday, 0);
     -- Binance counts every order of a list against the ORDERS limits.
     IF v_n10 + v_legs > p_limit_10s THEN
       RETURN QUERY SELECT 'order_rate_10s', NULL::bigint, NULL::bigint[], NULL::text, v_n10, v_nday; RETURN;
     END IF;
     IF v_nday + v_legs > p_limit_day THEN
       RETURN QUERY SELECT 'order_rate_day', NULL::bigint, NULL::bigint[], NULL::text, v_n10, v_nday; RETURN;
     END IF;
     IF EXISTS (SELECT 1 FROM orders WHERE user_id = p_user_id AND market = p_market
                  AND status IN ('NEW', 'PARTIALLY_FILLED')
                  AND client_order_id IN (SELECT o->>'client_order_id' FROM jsonb_array_elements(p_orders) o))
        OR EXISTS (SELECT 1 FROM order_lists WHERE user_id = p_user_id AND market = p_market
                     AND list_order_status = 'EXECUTING'
                     AND list_client_order_id = p_list->>'list_client_order_id') THEN
       RETURN QUERY SELECT 'duplicate_client_order_id', NULL::bigint, NULL::bigint[], NULL::text, v_n10, v_nday;
       RETURN;
     END IF;
     -- MAX_NUM_ORDERS counts orders: a single order's lock is one, a list's lock one per leg.
     SELECT coalesce(sum(CASE WHEN l.order_id > 0 THEN 1 ELSE cardinality(ol.order_ids) END), 0) INTO v_open
       FROM order_locks l LEFT JOIN order_lists ol ON l.order_id < 0 AND ol.list_id = -l.order_id
      WHERE l.user_id = p_user_id AND l.market = p_market AND l.status = 'open';
     IF v_open + v_legs > p_max_open THEN
       RETURN QUERY SELECT 'too_many_open_orders', NULL::bigint, NULL::bigint[], NULL::text, v_n10, v_nday; RETURN;
     END IF;
     UPDATE accounts SET available = available - p_amount, locked = locked + p_amount
      WHERE owner = 'user:' || p_user_id AND asset = p_asset AND available >= p_amount
      RETURNING id INTO v_account;
     IF v_account IS NULL THEN
       RETURN QUERY SELECT 'insufficient_balance', NULL::bigint, NULL::bigint[], NULL::text, v_n10, v_nday; RETURN;
     END IF;
     v_list_id := nextval('order_list_ids');
     INSERT INTO ledger_transactions (kind, reference) VALUES ('lock', 'list:' || v_list_id) RETURNING id INTO v_tx;
     INSERT INTO ledger_entries (tx_id, account_id, asset, bucket, amount)
       VALUES (v_tx, v_account, p_asset, 'available', -p_amount), (v_tx, v_account, p_asset, 'locked', p_amount);
     INSERT INTO order_locks (order_id, user_id, market, asset, locked_total, remaining)
       VALUES (-v_list_id, p_user_id, p_market, p_asset, p_amount, p_amount);
     FOR i IN 0 .. v_legs - 1 LOOP
       v_order_id := nextval('order_ids');
       v_ids := v_ids || v_order_id;
       INSERT INTO orders
         SELECT * FROM jsonb_populate_record(NULL::orders, (p_orders->i)
                       || jsonb_build_object('order_id', v_order_id, 'order_list_id', v_list_id));
       v_cmd_legs := v_cmd_legs || jsonb_build_array((p_command->'legs'->i) || jsonb_build_object('orderId', v_order_id));
     END LOOP;
     INSERT INTO order_lists
       SELECT * FROM jsonb_populate_record(NULL::order_lists, p_list || jsonb_build_object(
         'list_id', v_list_id, 'user_id', p_user_id, 'market', p_market, 'order_ids', v_ids,
         'lock_asset', p_asset, 'lock_amount', p_amount, 'list_status_type', 'EXEC_STARTED',
         'list_order_status', 'EXECUTING', 'last_seq', 0));
     v_body := jsonb_build_object('v', 1, 'cmdId', 'pl-' || v_list_id, 'command',
                 p_command || jsonb_build_object('listId', v_list_id, 'legs', v_cmd_legs))::text;
     INSERT INTO outbox (cmd_id, market, group_id, body) VALUES ('pl-' || v_list_id, p_market, p_group_id, v_body);
     INSERT INTO order_rate AS r VALUES (p_user_id, v_window, v_legs, v_day, v_legs)
       ON CONFLICT (user_id) DO UPDATE SET window_10s = v_window, count_10s = v_n10 + v_legs, day = v_day,
                                           count_day = v_nday + v_legs;
     RETURN QUERY SELECT 'accepted', v_list_id, v_ids, v_body, v_n10 + v_legs, v_nday + v_legs;
   END $$;

   -- What a list still holds comes back once (reference 'list:<id>'); later calls change nothing.
   CREATE FUNCTION release_list_lock(p_list_id bigint) RETURNS boolean
   LANGUAGE plpgsql AS $$
   DECLARE r record;
   BEGIN
     SELECT user_id, asset, remaining, status INTO r FROM order_locks WHERE order_id = -p_list_id FOR UPDATE;
     IF NOT FOUND OR r.status <> 'open' THEN RETURN false; END IF;
     IF r.remaining > 0 THEN
       PERFORM ledger_post('unlock', 'list:' || p_list_id, jsonb_build_array(
         jsonb_build_object('owner', 'user:' || r.user_id, 'asset', r.asset, 'bucket', 'available',
                            'amount', r.remaining::text),
         jsonb_build_object('owner', 'user:' || r.user_id, 'asset', r.asset, 'bucket', 'locked',
                            'amount', (-r.remaining)::text)));
     END IF;
     UPDATE order_locks SET remaining = 0, status = 'closed', closed_at = clock_timestamp() WHERE order_id = -p_list_id;
     RETURN true;
   END $$;

   -- As migration 4's, except that a list leg's payment comes out of its list's lock.
   CREATE OR REPLACE FUNCTION settle_trade(p jsonb) RETURNS boolean
   LANGUAGE plpgsql AS $$
   DECLARE
     s jsonb;
     v_lock bigint;
     v_list bigint;
   BEGIN
     INSERT INTO settled_trades (market, trade_id, maker_order_id, taker_order_id, price_ticks, qty_lots, taker_side,
                                 trade_ms)
       VALUES (p->>'market', (p->>'tradeId')::bigint, (p->>'makerOrderId')::bigint, (p->>'takerOrderId')::bigint,
               (p->>'price')::bigint, (p->>'quantity')::bigint, p->>'takerSide', (p->>'ts')::bigint)
       ON CONFLICT DO NOTHING;
     IF NOT FOUND THEN RETURN false; END IF;
     PERFORM ledger_post('trade', (p->>'market') || ':' || (p->>'tradeId'), p->'postings');
     FOR s IN SELECT * FROM jsonb_array_elements(p->'shrink') LOOP
       v_lock := (s->>'orderId')::bigint;
       SELECT order_list_id INTO v_list FROM orders WHERE order_id = v_lock;
       IF v_list IS NOT NULL THEN v_lock := -v_list; END IF;
       UPDATE order_locks SET remaining = remaining - (s->>'amount')::numeric
        WHERE order_id = v_lock AND remaining >= (s->>'amount')::numeric;
       IF NOT FOUND THEN
         RAISE EXCEPTION 'order % has less locked than trade %:% needs', s->>'orderId', p->>'market', p->>'tradeId'
           USING ERRCODE = 'check_violation';
       END IF;
     END LOOP;
     RETURN true;
   END $$;

   CREATE OR REPLACE FUNCTION settle_batch(p_ops jsonb, p_progress jsonb, p_cmd_ids text[], p_touched bigint[])
   RETURNS SETOF orders
   LANGUAGE plpgsql AS $$
   DECLARE op jsonb;
   BEGIN
     FOR op IN SELECT * FROM jsonb_array_elements(p_ops) LOOP
       CASE op->>'op'
         WHEN 'trade' THEN PERFORM settle_trade(op);
         -- A list leg has no lock of its own: its close releases nothing (its list's ALL_DONE does).
         WHEN 'release' THEN PERFORM release_order_lock((op->>'orderId')::bigint);
         -- A rejection answers an order only if the engine never answered it before: a duplicate or stale
         -- redelivery of a place, or a cancel of an order already closed, changes nothing. A cancel the engine
         -- rejects for an order it never saw closes it for good (the engine refuses that id from then on).
         WHEN 'rejectPlace', 'rejectCancel' THEN
           UPDATE orders SET status = CASE WHEN op->>'op' = 'rejectPlace' THEN 'REJECTED' ELSE 'CANCELED' END,
                             last_seq = (op->>'seq')::bigint, update_ms = (op->>'ts')::bigint
            WHERE order_id = (op->>'orderId')::bigint AND last_seq = 0;
           IF FOUND THEN PERFORM release_order_lock((op->>'orderId')::bigint); END IF;
         -- A list's status, in stream order (seq-guarded). REJECT answers only a list never answered before
         -- (the same rule as a rejected place); ALL_DONE releases what the list's lock still holds.
         WHEN 'listStatus' THEN
           IF op->>'listOrderStatus' = 'REJECT' THEN
             UPDATE order_lists SET list_status_type = 'ALL_DONE', list_order_status = 'REJECT',
                                    last_seq = (op->>'seq')::bigint, update_ms = (op->>'ts')::bigint
              WHERE list_id = (op->>'listId')::bigint AND last_seq = 0;
             IF FOUND THEN PERFORM release_list_lock((op->>'listId')::bigint); END IF;
           ELSE
             UPDATE order_lists SET list_status_type = op->>'listStatusType', list_order_status = op->>'listOrderStatus',
                                    last_seq = (op->>'seq')::bigint, update_ms = (op->>'ts')::bigint
              WHERE list_id = (op->>'listId')::bigint AND last_seq < (op->>'seq')::bigint;
             IF op->>'listOrderStatus' = 'ALL_DONE' THEN PERFORM release_list_lock((op->>'listId')::bigint); END IF;
           END IF;
         WHEN 'prevented' THEN
           INSERT INTO prevented_matches (market, prevented_match_id, user_id, taker_order_id, maker_order_id,
                                          price_ticks, maker_prevented_lots, stp_mode, transact_ms)
             VALUES (op->>'market', (op->>'preventedMatchId')::bigint, (op->>'userId')::bigint,
                     (op->>'takerOrderId')::bigint, (op->>'makerOrderId')::bigint, (op->>'price')::bigint,
                     (op->>'makerPreventedQuantity')::bigint, op->>'stpMode', (op->>'ts')::bigint)
             ON CONFLICT DO NOTHING;
         ELSE RAISE EXCEPTION 'unknown settlement operation %', op->>'op' USING ERRCODE = 'data_exception';
       END CASE;
     END LOOP;
     UPDATE orders o SET
       status = coalesce(u.status, o.status),
       executed_lots = coalesce(u.executed_lots, o.executed_lots),
       cum_quote = coalesce(u.cum_quote, o.cum_quote),
       price_ticks = coalesce(u.price_ticks, o.price_ticks),
       qty_lots = coalesce(u.qty_lots, o.qty_lots),
       is_working = coalesce(u.is_working, o.is_working),
       working_ms = coalesce(u.working_ms, o.working_ms),
       trailing_ms = coalesce(u.trailing_ms, o.trailing_ms),
       update_ms = u.update_ms,
       last_seq = u.seq
     FROM jsonb_to_recordset(p_progress) AS u(order_id bigint, seq bigint, update_ms bigint, status text,
       executed_lots bigint, cum_quote bigint, price_ticks bigint, qty_lots bigint, is_working boolean, working_ms bigint,
       trailing_ms bigint)
     WHERE o.order_id = u.order_id AND o.last_seq < u.seq;
     UPDATE outbox SET applied_at = clock_timestamp() WHERE cmd_id = ANY(p_cmd_ids) AND applied_at IS NULL;
     RETURN QUERY SELECT * FROM orders WHERE order_id = ANY(p_touched);
   END $$;

   REVOKE EXECUTE ON FUNCTION accept_order_list(text, bigint, bigint, text, int, text, numeric, jsonb, jsonb, jsonb,
     text, int, int, bigint), release_list_lock(bigint) FROM PUBLIC;
   -- API: places lists (accept_order_list, owner's rights), reads lists and its prevented matches, and locks
   -- a list row to queue its cancel (FOR UPDATE needs UPDATE on a column it never changes).
   GRANT EXECUTE ON FUNCTION accept_order_list(text, bigint, bigint, text, int, text, numeric, jsonb, jsonb, jsonb,
     text, int, int, bigint) TO cirrus_api;
   GRANT SELECT ON order_lists, prevented_matches TO cirrus_api;
   GRANT UPDATE (update_ms) ON order_lists TO cirrus_api;
   -- Processor: advances lists, releases their locks, records prevented matches.
   GRANT SELECT ON order_lists TO cirrus_processor;
   GRANT UPDATE (list_status_type, list_order_status, last_seq, update_ms) ON order_lists TO cirrus_processor;
   GRANT SELECT, INSERT ON prevented_matches TO cirrus_processor;
   GRANT EXECUTE ON FUNCTION release_list_lock(bigint) TO cirrus_processor;
   -- Reconciliation: a list lock stands for its legs.
   GRANT SELECT ON order_lists TO cirrus_reconciliation;`,
  // 18: OTO and OTOCO lists (docs/api.md#order-lists). The working leg locks its own funds, as a single order
  // does: a lock row under its order id (reference 'order:<id>'), paid from by its trades and released by its
  // close. The list's lock (−list id) holds what the pending legs need (Binance: an OTO's pending order needs
  // its balance when the list is placed) and comes back with the list's ALL_DONE, as an OCO's does. Both
  // locks are taken in the one accept transaction, or neither. settle_trade pays a leg from its own lock when
  // it has one, else from its list's; MAX_NUM_ORDERS counts a list's legs once (a working leg's own lock is
  // not counted again).
  // A pending leg (status PENDING_NEW) is open: its client order id is taken and /openOrders shows it.
  `DROP INDEX orders_open_client_id;
   CREATE UNIQUE INDEX orders_open_client_id ON orders (user_id, market, client_order_id)
     WHERE status IN ('NEW', 'PARTIALLY_FILLED', 'PENDING_NEW');
   DROP INDEX orders_open_by_user;
   CREATE INDEX orders_open_by_user ON orders (user_id, market) WHERE status IN ('NEW', 'PARTIALLY_FILLED', 'PENDING_NEW');
   -- MAX_NUM_ORDERS counts orders: every open lock is one, and an executing list adds its other legs (its lock
   -- counts one, an OTO's working leg's own lock another). Both parts read partial indexes: order_locks'
   -- open locks and order_lists_open_client_id (executing lists are few).
   CREATE FUNCTION open_orders_counted(p_user_id bigint, p_market text) RETURNS int
   LANGUAGE sql STABLE AS $$
     SELECT ((SELECT count(*) FROM order_locks WHERE user_id = p_user_id AND market = p_market AND status = 'open')
           + coalesce((SELECT sum(cardinality(ol.order_ids) - 1
                                  - (SELECT count(*) FROM order_locks w
                                      WHERE w.order_id = ol.order_ids[1] AND w.status = 'open'))
                         FROM order_lists ol
                        WHERE ol.user_id = p_user_id AND ol.market = p_market
                          AND ol.list_order_status = 'EXECUTING'), 0))::int
   $$;
   REVOKE EXECUTE ON FUNCTION open_orders_counted(bigint, text) FROM PUBLIC;
   -- As migration 5's (with migration 9's rights): a pending leg's client order id is taken, and an open
   -- list counts one order per leg.
   CREATE OR REPLACE FUNCTION accept_order(
     p_signature text, p_signature_expires_ms bigint, p_user_id bigint, p_market text, p_max_open int,
     p_asset text, p_amount numeric, p_order jsonb, p_command jsonb, p_group_id text,
     p_limit_10s int, p_limit_day int, p_now_ms bigint
   ) RETURNS TABLE (outcome text, new_order_id bigint, command text, orders_10s int, orders_day int)
   LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
   DECLARE
     v_account bigint;
     v_order_id bigint;
     v_tx bigint;
     v_body text;
     v_window bigint := p_now_ms / 10000;
     v_day int := (p_now_ms / 86400000)::int;
     v_n10 int;
     v_nday int;
   BEGIN
     IF p_signature IS NOT NULL THEN
       INSERT INTO request_signatures VALUES (p_signature, p_signature_expires_ms) ON CONFLICT DO NOTHING;
       IF NOT FOUND THEN RETURN QUERY SELECT 'replayed_signature', NULL::bigint, NULL::text, NULL::int, NULL::int; RETURN; END IF;
     END IF;
     PERFORM 1 FROM users WHERE id = p_user_id FOR UPDATE;
     -- Binance's ORDERS limits: orders accepted per account in the current 10-second window and UTC day.
     SELECT CASE WHEN r.window_10s = v_window THEN r.count_10s ELSE 0 END,
            CASE WHEN r.day = v_day THEN r.count_day ELSE 0 END
       INTO v_n10, v_nday FROM order_rate r WHERE r.user_id = p_user_id;
     v_n10 := coalesce(v_n10, 0);
     v_nday := coalesce(v_nday, 0);
     IF v_n10 >= p_limit_10s THEN
       RETURN QUERY SELECT 'order_rate_10s', NULL::bigint, NULL::text, v_n10, v_nday; RETURN;
     END IF;
     IF v_nday >= p_limit_day THEN
       RETURN QUERY SELECT 'order_rate_day', NULL::bigint, NULL::text, v_n10, v_nday; RETURN;
     END IF;
     IF EXISTS (SELECT 1 FROM orders WHERE user_id = p_user_id AND market = p_market
                  AND client_order_id = p_order->>'client_order_id'
                  AND status IN ('NEW', 'PARTIALLY_FILLED', 'PENDING_NEW')) THEN
       RETURN QUERY SELECT 'duplicate_client_order_id', NULL::bigint, NULL::text, v_n10, v_nday; RETURN;
     END IF;
     IF open_orders_counted(p_user_id, p_market) >= p_max_open THEN
       RETURN QUERY SELECT 'too_many_open_orders', NULL::bigint, NULL::text, v_n10, v_nday; RETURN;
     END IF;
     UPDATE accounts SET available = available - p_amount, locked = locked + p_amount
      WHERE owner = 'user:' || p_user_id AND asset = p_asset AND available >= p_amount
      RETURNING id INTO v_account;
     IF v_account IS NULL THEN
       RETURN QUERY SELECT 'insufficient_balance', NULL::bigint, NULL::text, v_n10, v_nday; RETURN;
     END IF;
     v_order_id := nextval('order_ids');
     INSERT INTO ledger_transactions (kind, reference) VALUES ('lock', 'order:' || v_order_id) RETURNING id INTO v_tx;
     INSERT INTO ledger_entries (tx_id, account_id, asset, bucket, amount)
       VALUES (v_tx, v_account, p_asset, 'available', -p_amount), (v_tx, v_account, p_asset, 'locked', p_amount);
     INSERT INTO order_locks (order_id, user_id, market, asset, locked_total, remaining)
       VALUES (v_order_id, p_user_id, p_market, p_asset, p_amount, p_amount);
     INSERT INTO orders
       SELECT * FROM jsonb_populate_record(NULL::orders, p_order || jsonb_build_object('order_id', v_order_id));
     v_body := jsonb_build_object('v', 1, 'cmdId', 'p-' || v_order_id,
                                  'command', p_command || jsonb_build_object('orderId', v_order_id))::text;
     INSERT INTO outbox (cmd_id, market, group_id, body) VALUES ('p-' || v_order_id, p_market, p_group_id, v_body);
     INSERT INTO order_rate AS r VALUES (p_user_id, v_window, 1, v_day, 1)
       ON CONFLICT (user_id) DO UPDATE SET window_10s = v_window, count_10s = v_n10 + 1, day = v_day,
                                           count_day = v_nday + 1;
     RETURN QUERY SELECT 'accepted', v_order_id, v_body, v_n10 + 1, v_nday + 1;
   END $$;
   DROP FUNCTION accept_order_list(text, bigint, bigint, text, int, text, numeric, jsonb, jsonb, jsonb, text, int,
     int, bigint);
   CREATE FUNCTION accept_order_list(
     p_signature text, p_signature_expires_ms bigint, p_user_id bigint, p_market text, p_max_open int,
     p_asset text, p_amount numeric, p_list jsonb, p_orders jsonb, p_command jsonb, p_group_id text,
     p_limit_10s int, p_limit_day int, p_now_ms bigint, p_working_asset text, p_working_amount numeric
   ) RETURNS TABLE (outcome text, new_list_id bigint, new_order_ids bigint[], command text, orders_10s int,
                    orders_day int)
   LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
   DECLARE
     v_legs int := jsonb_array_length(p_orders);
     v_account bigint;
     v_working_account bigint;
     v_list_id bigint;
     v_order_id bigint;
     v_ids bigint[] := '{}';
     v_cmd_legs jsonb := '[]'::jsonb;
     v_tx bigint;
     v_body text;
     v_window bigint := p_now_ms / 10000;
     v_day int := (p_now_ms / 86400000)::int;
     v_n10 int;
     v_nday int;
     v_same_asset boolean := p_working_amount > 0 AND p_working_asset = p_asset;
   BEGIN
     IF p_signature IS NOT NULL THEN
       INSERT INTO request_signatures VALUES (p_signature, p_signature_expires_ms) ON CONFLICT DO NOTHING;
       IF NOT FOUND THEN
         RETURN QUERY SELECT 'replayed_signature', NULL::bigint, NULL::bigint[], NULL::text, NULL::int, NULL::int;
         RETURN;
       END IF;
     END IF;
     PERFORM 1 FROM users WHERE id = p_user_id FOR UPDATE;
     SELECT CASE WHEN r.window_10s = v_window THEN r.count_10s ELSE 0 END,
            CASE WHEN r.day = v_day THEN r.count_day ELSE 0 END
       INTO v_n10, v_nday FROM order_rate r WHERE r.user_id = p_user_id;
     v_n10 := coalesce(v_n10, 0);
     v_nday := coalesce(v_nday, 0);
     -- Binance counts every order of a list against the ORDERS limits.
     IF v_n10 + v_legs > p_limit_10s THEN
       RETURN QUERY SELECT 'order_rate_10s', NULL::bigint, NULL::bigint[], NULL::text, v_n10, v_nday; RETURN;
     END IF;
     IF v_nday + v_legs > p_limit_day THEN
       RETURN QUERY SELECT 'order_rate_day', NULL::bigint, NULL::bigint[], NULL::text, v_n10, v_nday; RETURN;
     END IF;
     IF EXISTS (SELECT 1 FROM orders WHERE user_id = p_user_id AND market = p_market
                  AND status IN ('NEW', 'PARTIALLY_FILLED', 'PENDING_NEW')
                  AND client_order_id IN (SELECT o->>'client_order_id' FROM jsonb_array_elements(p_orders) o))
        OR EXISTS (SELECT 1 FROM order_lists WHERE user_id = p_user_id AND market = p_market
                     AND list_order_status = 'EXECUTING'
                     AND list_client_order_id = p_list->>'list_client_order_id') THEN
       RETURN QUERY SELECT 'duplicate_client_order_id', NULL::bigint, NULL::bigint[], NULL::text, v_n10, v_nday;
       RETURN;
     END IF;
     IF open_orders_counted(p_user_id, p_market) + v_legs > p_max_open THEN
       RETURN QUERY SELECT 'too_many_open_orders', NULL::bigint, NULL::bigint[], NULL::text, v_n10, v_nday; RETURN;
     END IF;
     -- Both locks or neither: in one asset, one update for their sum.
     UPDATE accounts
        SET available = available - (p_amount + CASE WHEN v_same_asset THEN p_working_amount ELSE 0 END),
            locked = locked + (p_amount + CASE WHEN v_same_asset THEN p_working_amount ELSE 0 END)
      WHERE owner = 'user:' || p_user_id AND asset = p_asset
        AND available >= p_amount + CASE WHEN v_same_asset THEN p_working_amount ELSE 0 END
      RETURNING id INTO v_account;
     IF v_account IS NULL THEN
       RETURN QUERY SELECT 'insufficient_balance', NULL::bigint, NULL::bigint[], NULL::text, v_n10, v_nday; RETURN;
     END IF;
     v_working_account := v_account;
     IF p_working_amount > 0 AND NOT v_same_asset THEN
       UPDATE accounts SET available = available - p_working_amount, locked = locked + p_working_amount
        WHERE owner = 'user:' || p_user_id AND asset = p_working_asset AND available >= p_working_amount
        RETURNING id INTO v_working_account;
       IF v_working_account IS NULL THEN
         -- Undo the list's lock (nothing else was written yet): neither lock is taken.
         UPDATE accounts SET available = available + p_amount, locked = locked - p_amount WHERE id = v_account;
         RETURN QUERY SELECT 'insufficient_balance', NULL::bigint, NULL::bigint[], NULL::text, v_n10, v_nday;
         RETURN;
       END IF;
     END IF;
     v_list_id := nextval('order_list_ids');
     INSERT INTO ledger_transactions (kind, reference) VALUES ('lock', 'list:' || v_list_id) RETURNING id INTO v_tx;
     INSERT INTO ledger_entries (tx_id, account_id, asset, bucket, amount)
       VALUES (v_tx, v_account, p_asset, 'available', -p_amount), (v_tx, v_account, p_asset, 'locked', p_amount);
     INSERT INTO order_locks (order_id, user_id, market, asset, locked_total, remaining)
       VALUES (-v_list_id, p_user_id, p_market, p_asset, p_amount, p_amount);
     FOR i IN 0 .. v_legs - 1 LOOP
       v_order_id := nextval('order_ids');
       v_ids := v_ids || v_order_id;
       INSERT INTO orders
         SELECT * FROM jsonb_populate_record(NULL::orders, (p_orders->i)
                       || jsonb_build_object('order_id', v_order_id, 'order_list_id', v_list_id));
       v_cmd_legs := v_cmd_legs || jsonb_build_array((p_command->'legs'->i) || jsonb_build_object('orderId', v_order_id));
       -- The working leg (the first of an OTO/OTOCO) locks its own funds as a single order does.
       IF i = 0 AND p_working_amount > 0 THEN
         INSERT INTO ledger_transactions (kind, reference) VALUES ('lock', 'order:' || v_order_id)
           RETURNING id INTO v_tx;
         INSERT INTO ledger_entries (tx_id, account_id, asset, bucket, amount)
           VALUES (v_tx, v_working_account, p_working_asset, 'available', -p_working_amount),
                  (v_tx, v_working_account, p_working_asset, 'locked', p_working_amount);
         INSERT INTO order_locks (order_id, user_id, market, asset, locked_total, remaining)
           VALUES (v_order_id, p_user_id, p_market, p_working_asset, p_working_amount, p_working_amount);
       END IF;
     END LOOP;
     INSERT INTO order_lists
       SELECT * FROM jsonb_populate_record(NULL::order_lists, p_list || jsonb_build_object(
         'list_id', v_list_id, 'user_id', p_user_id, 'market', p_market, 'order_ids', v_ids,
         'lock_asset', p_asset, 'lock_amount', p_amount, 'list_status_type', 'EXEC_STARTED',
         'list_order_status', 'EXECUTING', 'last_seq', 0));
     v_body := jsonb_build_object('v', 1, 'cmdId', 'pl-' || v_list_id, 'command',
                 p_command || jsonb_build_object('listId', v_list_id, 'legs', v_cmd_legs))::text;
     INSERT INTO outbox (cmd_id, market, group_id, body) VALUES ('pl-' || v_list_id, p_market, p_group_id, v_body);
     INSERT INTO order_rate AS r VALUES (p_user_id, v_window, v_legs, v_day, v_legs)
       ON CONFLICT (user_id) DO UPDATE SET window_10s = v_window, count_10s = v_n10 + v_legs, day = v_day,
                                           count_day = v_nday + v_legs;
     RETURN QUERY SELECT 'accepted', v_list_id, v_ids, v_body, v_n10 + v_legs, v_nday + v_legs;
   END $$;
   REVOKE EXECUTE ON FUNCTION accept_order_list(text, bigint, bigint, text, int, text, numeric, jsonb, jsonb, jsonb,
     text, int, int, bigint, text, numeric) FROM PUBLIC;
   GRANT EXECUTE ON FUNCTION accept_order_list(text, bigint, bigint, text, int, text, numeric, jsonb, jsonb, jsonb,
     text, int, int, bigint, text, numeric) TO cirrus_api;

   -- As migration 17's, except that a list leg with a lock of its own (an OTO's working leg) pays from it.
   CREATE OR REPLACE FUNCTION settle_trade(p jsonb) RETURNS boolean
   LANGUAGE plpgsql AS $$
   DECLARE
     s jsonb;
     v_lock bigint;
   BEGIN
     INSERT INTO settled_trades (market, trade_id, maker_order_id, taker_order_id, price_ticks, qty_lots, taker_side,
                                 trade_ms)
       VALUES (p->>'market', (p->>'tradeId')::bigint, (p->>'makerOrderId')::bigint, (p->>'takerOrderId')::bigint,
               (p->>'price')::bigint, (p->>'quantity')::bigint, p->>'takerSide', (p->>'ts')::bigint)
       ON CONFLICT DO NOTHING;
     IF NOT FOUND THEN RETURN false; END IF;
     PERFORM ledger_post('trade', (p->>'market') || ':' || (p->>'tradeId'), p->'postings');
     FOR s IN SELECT * FROM jsonb_array_elements(p->'shrink') LOOP
       v_lock := (s->>'orderId')::bigint;
       SELECT CASE WHEN o.order_list_id IS NULL THEN o.order_id
                   WHEN EXISTS (SELECT 1 FROM order_locks l WHERE l.order_id = o.order_id) THEN o.order_id
                   ELSE -o.order_list_id END
         INTO v_lock FROM orders o WHERE o.order_id = v_lock;
       v_lock := coalesce(v_lock, (s->>'orderId')::bigint);
       UPDATE order_locks SET remaining = remaining - (s->>'amount')::numeric
        WHERE order_id = v_lock AND remaining >= (s->>'amount')::numeric;
       IF NOT FOUND THEN
         RAISE EXCEPTION 'order % has less locked than trade %:% needs', s->>'orderId', p->>'market', p->>'tradeId'
           USING ERRCODE = 'check_violation';
       END IF;
     END LOOP;
     RETURN true;
   END $$;`,
  // 19: amend keep priority of any order-list leg (docs/api.md#order-lists). A leg without a lock of its own
  // (an OCO leg, an OTO / OTOCO pending leg) is paid from its list's lock, which holds what those legs need
  // at one quantity (an OCO pair's legs have one quantity, and an amend lowers both). The engine's answer
  // lowers the legs' rows; this trigger then frees, once per list and quantity, the part of the list's lock
  // the lower quantity no longer needs: lock × removed / quantity, as for a single order (migration 7), with
  // the list's current quantity in order_lists.lock_qty_lots (NULL until its first amend: the legs' own
  // quantity). The pair's second row finds the list already at its quantity and frees nothing, in whichever
  // order or batch the two rows are settled. A leg with a lock of its own is released as before.
  `ALTER TABLE order_lists ADD COLUMN lock_qty_lots bigint;
   GRANT UPDATE (lock_amount, lock_qty_lots) ON order_lists TO cirrus_processor;
   CREATE OR REPLACE FUNCTION release_amended_lock() RETURNS trigger
   LANGUAGE plpgsql AS $$
   DECLARE
     v_status text;
     v_freed numeric;
     v_list_amount numeric;
     v_list_qty bigint;
     v_lock bigint;
     v_ref text;
     v_asset text;
   BEGIN
     SELECT status, asset INTO v_status, v_asset FROM order_locks WHERE order_id = OLD.order_id FOR UPDATE;
     IF FOUND THEN
       IF v_status <> 'open' THEN RETURN NEW; END IF;
       v_freed := div(OLD.lock_amount * (OLD.qty_lots - NEW.qty_lots), OLD.qty_lots);
       v_lock := OLD.order_id;
       v_ref := 'order:' || OLD.order_id || ':amend:' || NEW.last_seq;
     ELSE
       IF OLD.order_list_id IS NULL THEN RETURN NEW; END IF;
       SELECT lock_amount, coalesce(lock_qty_lots, OLD.qty_lots) INTO v_list_amount, v_list_qty
         FROM order_lists WHERE list_id = OLD.order_list_id FOR UPDATE;
       IF NOT FOUND OR NEW.qty_lots >= v_list_qty THEN RETURN NEW; END IF;
       SELECT status, asset INTO v_status, v_asset FROM order_locks WHERE order_id = -OLD.order_list_id FOR UPDATE;
       IF NOT FOUND OR v_status <> 'open' THEN RETURN NEW; END IF;
       v_freed := div(v_list_amount * (v_list_qty - NEW.qty_lots), v_list_qty);
       UPDATE order_lists SET lock_amount = lock_amount - greatest(v_freed, 0), lock_qty_lots = NEW.qty_lots
        WHERE list_id = OLD.order_list_id;
       v_lock := -OLD.order_list_id;
       v_ref := 'list:' || OLD.order_list_id || ':amend:' || NEW.qty_lots;
     END IF;
     IF v_freed <= 0 THEN RETURN NEW; END IF;
     IF NOT ledger_post('unlock', v_ref, jsonb_build_array(
          jsonb_build_object('owner', 'user:' || OLD.user_id, 'asset', v_asset, 'bucket', 'available',
                             'amount', v_freed::text),
          jsonb_build_object('owner', 'user:' || OLD.user_id, 'asset', v_asset, 'bucket', 'locked',
                             'amount', (-v_freed)::text))) THEN
       RETURN NEW;
     END IF;
     UPDATE order_locks SET remaining = remaining - v_freed WHERE order_id = v_lock AND remaining >= v_freed;
     IF NOT FOUND THEN
       RAISE EXCEPTION 'order % has less locked than its amend frees', OLD.order_id USING ERRCODE = 'check_violation';
     END IF;
     IF v_lock = OLD.order_id THEN NEW.lock_amount := OLD.lock_amount - v_freed; END IF;
     RETURN NEW;
   END $$;`,
  // 20: a revoked API key ends the user data subscriptions it signed (docs/api.md#user-data-streams): the
  // WebSocket fan-out reads whether a key is revoked, and nothing else of it (no owner, no secret).
  `GRANT SELECT (api_key, revoked_at) ON api_keys TO cirrus_ws_fanout;`,
  // 21: amend history (GET /api/v3/order/amendments; docs/api.md#amend-keep-priority). Each lowered quantity
  // the settlement applies to an order row is one amendment: its execution id is the engine's seq of the
  // answer (the row's last_seq), recorded once (the key) in the same transaction. Two amends of one order
  // settled in one batch were one row, from the first's quantity to the last's: migration 22 replaces the
  // trigger with one row per engine answer. MAX_NUM_ORDER_AMENDS counts these rows.
  `CREATE TABLE order_amendments (
     order_id bigint NOT NULL,
     execution_id bigint NOT NULL,
     client_order_id text NOT NULL,
     orig_qty_lots bigint NOT NULL,
     new_qty_lots bigint NOT NULL,
     time_ms bigint NOT NULL,
     PRIMARY KEY (order_id, execution_id)
   );
   GRANT SELECT ON order_amendments TO cirrus_api;
   GRANT INSERT ON order_amendments TO cirrus_processor;
   CREATE FUNCTION record_amendment() RETURNS trigger
   LANGUAGE plpgsql AS $$
   BEGIN
     INSERT INTO order_amendments (order_id, execution_id, client_order_id, orig_qty_lots, new_qty_lots, time_ms)
       VALUES (OLD.order_id, NEW.last_seq, NEW.client_order_id, OLD.qty_lots, NEW.qty_lots, NEW.update_ms)
       ON CONFLICT DO NOTHING;
     RETURN NEW;
   END $$;
   CREATE TRIGGER orders_amend_history AFTER UPDATE OF qty_lots ON orders FOR EACH ROW
     WHEN (NEW.qty_lots < OLD.qty_lots AND OLD.qty_lots > 0)
     EXECUTE FUNCTION record_amendment();`,
  // 22: one amend history row per engine answer, whatever the batching (docs/api.md#amend-keep-priority).
  // Migration 21's trigger saw the order row's progress, which settle_batch merges per batch, so two amends
  // of one order settled together were one row. Now each engine `amended` event is a settlement operation
  // ('amend', lambdas/shared/ledger/repository.ts), applied in stream order in the settlement transaction:
  // execution id = the event's seq, time = its ts, new quantity = its quantity, original quantity = what the
  // order had before it (the quantity of its previous amend in this call, else the order row's). An answer
  // the order row already shows (last_seq, as the progress update guards it: a redelivered or overlapping
  // batch) is not recorded again, and the key (order_id, execution_id) keeps a row once in any case. An OCO
  // pair's amend answers each leg with an event of its own, so each leg has its row. A quantity that does not
  // go down records nothing (the API sends only lower ones). settle_batch is re-created whole (as migration
  // 17 left it, plus 'amend'); the trigger and its function go. The processor already may INSERT the rows.
  // A deploy applies this before the data processor's new code (its functions depend on the schema): amends
  // settled by the old code in between send no 'amend' operation and leave no row.
  `DROP TRIGGER orders_amend_history ON orders;
   DROP FUNCTION record_amendment();
   -- The amend command the row answers (lambdas/api/orders/answer-waiter.ts): its REST request finds its own
   -- answer even when a later amend of the order settled in the same batch. Null for rows before this.
   ALTER TABLE order_amendments ADD COLUMN cmd_id text;
   CREATE OR REPLACE FUNCTION settle_batch(p_ops jsonb, p_progress jsonb, p_cmd_ids text[], p_touched bigint[])
   RETURNS SETOF orders
   LANGUAGE plpgsql AS $$
   DECLARE
     op jsonb;
     v_order record;
     v_orig bigint;
     -- Order id → its quantity after its latest amend in this call (the row itself changes only at the end).
     v_amended jsonb := '{}';
   BEGIN
     FOR op IN SELECT * FROM jsonb_array_elements(p_ops) LOOP
       CASE op->>'op'
         WHEN 'trade' THEN PERFORM settle_trade(op);
         -- A list leg has no lock of its own: its close releases nothing (its list's ALL_DONE does).
         WHEN 'release' THEN PERFORM release_order_lock((op->>'orderId')::bigint);
         -- A rejection answers an order only if the engine never answered it before: a duplicate or stale
         -- redelivery of a place, or a cancel of an order already closed, changes nothing. A cancel the engine
         -- rejects for an order it never saw closes it for good (the engine refuses that id from then on).
         WHEN 'rejectPlace', 'rejectCancel' THEN
           UPDATE orders SET status = CASE WHEN op->>'op' = 'rejectPlace' THEN 'REJECTED' ELSE 'CANCELED' END,
                             last_seq = (op->>'seq')::bigint, update_ms = (op->>'ts')::bigint
            WHERE order_id = (op->>'orderId')::bigint AND last_seq = 0;
           IF FOUND THEN PERFORM release_order_lock((op->>'orderId')::bigint); END IF;
         -- A list's status, in stream order (seq-guarded). REJECT answers only a list never answered before
         -- (the same rule as a rejected place); ALL_DONE releases what the list's lock still holds.
         WHEN 'listStatus' THEN
           IF op->>'listOrderStatus' = 'REJECT' THEN
             UPDATE order_lists SET list_status_type = 'ALL_DONE', list_order_status = 'REJECT',
                                    last_seq = (op->>'seq')::bigint, update_ms = (op->>'ts')::bigint
              WHERE list_id = (op->>'listId')::bigint AND last_seq = 0;
             IF FOUND THEN PERFORM release_list_lock((op->>'listId')::bigint); END IF;
           ELSE
             UPDATE order_lists SET list_status_type = op->>'listStatusType', list_order_status = op->>'listOrderStatus',
                                    last_seq = (op->>'seq')::bigint, update_ms = (op->>'ts')::bigint
              WHERE list_id = (op->>'listId')::bigint AND last_seq < (op->>'seq')::bigint;
             IF op->>'listOrderStatus' = 'ALL_DONE' THEN PERFORM release_list_lock((op->>'listId')::bigint); END IF;
           END IF;
         WHEN 'prevented' THEN
           INSERT INTO prevented_matches (market, prevented_match_id, user_id, taker_order_id, maker_order_id,
                                          price_ticks, maker_prevented_lots, stp_mode, transact_ms)
             VALUES (op->>'market', (op->>'preventedMatchId')::bigint, (op->>'userId')::bigint,
                     (op->>'takerOrderId')::bigint, (op->>'makerOrderId')::bigint, (op->>'price')::bigint,
                     (op->>'makerPreventedQuantity')::bigint, op->>'stpMode', (op->>'ts')::bigint)
             ON CONFLICT DO NOTHING;
         -- One amend answer, one history row (GET /api/v3/order/amendments), unless the row already shows it.
         WHEN 'amend' THEN
           SELECT client_order_id, qty_lots, last_seq INTO v_order
             FROM orders WHERE order_id = (op->>'orderId')::bigint;
           IF FOUND AND v_order.last_seq < (op->>'seq')::bigint THEN
             v_orig := coalesce((v_amended->>(op->>'orderId'))::bigint, v_order.qty_lots);
             v_amended := v_amended || jsonb_build_object(op->>'orderId', (op->>'quantity')::bigint);
             -- Once per key; no arbiter is named, as one needs SELECT and the processor may only INSERT here.
             IF (op->>'quantity')::bigint < v_orig THEN
               INSERT INTO order_amendments
                   (order_id, execution_id, client_order_id, orig_qty_lots, new_qty_lots, time_ms, cmd_id)
                 VALUES ((op->>'orderId')::bigint, (op->>'seq')::bigint, v_order.client_order_id, v_orig,
                         (op->>'quantity')::bigint, (op->>'ts')::bigint, op->>'cmdId')
                 ON CONFLICT DO NOTHING;
             END IF;
           END IF;
         ELSE RAISE EXCEPTION 'unknown settlement operation %', op->>'op' USING ERRCODE = 'data_exception';
       END CASE;
     END LOOP;
     UPDATE orders o SET
       status = coalesce(u.status, o.status),
       executed_lots = coalesce(u.executed_lots, o.executed_lots),
       cum_quote = coalesce(u.cum_quote, o.cum_quote),
       price_ticks = coalesce(u.price_ticks, o.price_ticks),
       qty_lots = coalesce(u.qty_lots, o.qty_lots),
       is_working = coalesce(u.is_working, o.is_working),
       working_ms = coalesce(u.working_ms, o.working_ms),
       trailing_ms = coalesce(u.trailing_ms, o.trailing_ms),
       update_ms = u.update_ms,
       last_seq = u.seq
     FROM jsonb_to_recordset(p_progress) AS u(order_id bigint, seq bigint, update_ms bigint, status text,
       executed_lots bigint, cum_quote bigint, price_ticks bigint, qty_lots bigint, is_working boolean, working_ms bigint,
       trailing_ms bigint)
     WHERE o.order_id = u.order_id AND o.last_seq < u.seq;
     UPDATE outbox SET applied_at = clock_timestamp() WHERE cmd_id = ANY(p_cmd_ids) AND applied_at IS NULL;
     RETURN QUERY SELECT * FROM orders WHERE order_id = ANY(p_touched);
   END $$;`,
];

/** The database roles of migrations 9 and 13, one per function family (docs/architecture.md#database-roles). */
export const DATABASE_ROLES = [
  'cirrus_api',
  'cirrus_processor',
  'cirrus_read_models',
  'cirrus_ws_fanout',
  'cirrus_relay',
  'cirrus_wallet',
  'cirrus_chain_listener',
  'cirrus_reconciliation',
  'cirrus_search_indexer',
] as const;
export type DatabaseRole = (typeof DATABASE_ROLES)[number];

/** The login user of a role: the user name in its secret (AWS) and in its connection URL (locally). */
export const loginUserOf = (role: DatabaseRole): string => `${role}_login`;

export async function migrate(pool: Pool): Promise<number> {
  await pool.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const done = new Set(
    (await pool.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
      (r) => r.version,
    ),
  );
  let applied = 0;
  for (let i = 0; i < MIGRATIONS.length; i++) {
    const version = i + 1;
    if (done.has(version)) continue;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(MIGRATIONS[i]);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      await client.query('COMMIT');
      applied++;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
  }
  return applied;
}
