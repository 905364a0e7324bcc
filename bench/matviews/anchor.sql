-- 200 REFRESH statements in dependency order, CONCURRENTLY where possible.
SELECT sql AS script FROM anchor_script \gset
:script
