-- Ten snapshots in one session: the plans are made once and kept.
SELECT dbopt.take_snapshot();
SELECT dbopt.take_snapshot();
SELECT dbopt.take_snapshot();
SELECT dbopt.take_snapshot();
SELECT dbopt.take_snapshot();
SELECT dbopt.take_snapshot();
SELECT dbopt.take_snapshot();
SELECT dbopt.take_snapshot();
SELECT dbopt.take_snapshot();
SELECT dbopt.take_snapshot();
