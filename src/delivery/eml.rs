//! The `--deliver eml` carrier: writes the message as `newsletter.eml` next to the newsletter,
//! for a look before anything is sent (open it in any mail client).

use std::sync::Arc;

use async_trait::async_trait;

use crate::keys;
use crate::ports::mailer::{MailerKind, OutgoingMail, SendFailure};
use crate::ports::store::content_type;
use crate::ports::{Mailer, ObjectStore};

pub struct EmlFile {
    newsletters: Arc<dyn ObjectStore>,
}

impl EmlFile {
    pub fn new(newsletters: Arc<dyn ObjectStore>) -> Self {
        EmlFile { newsletters }
    }
}

#[async_trait]
impl Mailer for EmlFile {
    fn name(&self) -> &'static str {
        "eml"
    }

    fn kind(&self) -> MailerKind {
        MailerKind::Preview
    }

    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendFailure> {
        let key = keys::newsletter_file(&mail.client_id, mail.run_date, "newsletter.eml");
        self.newsletters
            .put(&key, mail.raw.clone(), content_type::EML)
            .await
            .map_err(|error| SendFailure {
                error,
                uncertain: false,
            })?;
        Ok(self.newsletters.locate(&key))
    }
}
