"""Operations that take the service: doctor, reindex, migrate, lifecycle, hardening, IAM, the
cost review and the samples. The service never imports them."""
