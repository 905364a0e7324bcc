SELECT dbopt.take_snapshot();
