-- +goose Up
-- IS-STEPS: the desk's steps carry their checklists. 预受理 records the
-- documents the staff member checked (身份证、照片、体检证明: all three, the
-- step refuses less); 审核缴费 records how the fee was paid and the
-- receipt's number, which the desk's printed receipts show. Rows that passed
-- these steps before keep NULL: nothing was recorded then.
ALTER TABLE issuances
    ADD COLUMN accepted_checklist text[]
        CHECK (accepted_checklist <@ ARRAY['id_card', 'photo', 'medical']::text[]),
    ADD COLUMN payment_method text CHECK (payment_method IN ('cash', 'card', 'mobile')),
    ADD COLUMN receipt_number text CHECK (receipt_number ~ '^[A-Za-z0-9-]{1,32}$');
